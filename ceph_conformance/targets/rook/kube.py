"""The Kubernetes API as the Rook layer uses it, through the official client: server-side apply,
reads, deletion by the run's label, and exec in a pod (argv and stdin bytes in, stdout bytes out)."""

import time

from ...errors import CommandError, SetupError

FIELD_MANAGER = "ceph-conformance"
STDIN_PIECE = 1 << 20


def api_client(kubeconfig, context=None):
    """An ApiClient for the kubeconfig (and context); SetupError in one line if it is unusable."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        return config.new_client_from_config(config_file=str(kubeconfig), context=context or None)
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
        what = f"--kubeconfig {kubeconfig}" + (f" --context {context}" if context else "")
        raise SetupError(f"{what}: not a usable kubeconfig ({str(exc).splitlines()[0][:200]}); "
                         "give one that `kubectl get nodes` works with") from None


class Kube:
    def __init__(self, api, discovery_cache=None):
        """discovery_cache: the dynamic client's discovery cache file (its default is one per server
        in /tmp, kept after the run)."""
        from kubernetes import client, dynamic

        self.api = api
        self._discovery_cache = discovery_cache
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self._dynamic_client = dynamic.DynamicClient
        self._dyn = None

    @property
    def dyn(self):
        if self._dyn is None:
            self._dyn = self._dynamic_client(self.api, cache_file=self._discovery_cache)
        return self._dyn

    def server_version(self, timeout=15):
        """(major, minor, gitVersion) of the API server; SetupError if it cannot be reached."""
        from kubernetes import client

        try:
            info = client.VersionApi(self.api).get_code(_request_timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - any failure to reach it is the one line below
            host = self.api.configuration.host
            raise SetupError(f"cannot reach the Kubernetes API at {host} ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:200]}); check the kubeconfig and the network") from None
        return int(info.major.rstrip("+")), int(info.minor.rstrip("+")), info.git_version

    def resource(self, api_version, kind):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.dyn.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            # A CRD applied a moment ago is not in the discovery cache yet.
            self.dyn.resources.invalidate_cache()
            return self.dyn.resources.get(api_version=api_version, kind=kind)

    def apply(self, doc, timeout=60):
        """Server-side apply (what custom resources need), as the suite's field manager, with strict
        field validation: a field the schema does not know is refused, never silently pruned.
        SetupError in one line, naming the object and the field, if the API server refuses it."""
        from kubernetes.client.exceptions import ApiException

        res = self.resource(doc["apiVersion"], doc["kind"])
        meta = doc["metadata"]
        try:
            return self.dyn.server_side_apply(res, body=doc, name=meta["name"], namespace=meta.get("namespace"),
                                              field_manager=FIELD_MANAGER, force_conflicts=True,
                                              query_params=[("fieldValidation", "Strict")], _request_timeout=timeout)
        except ApiException as exc:
            message = refusal(exc)
            if message is None:
                raise
            where = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
            raise SetupError(f"{doc['kind']} {where} rejected by the API server (HTTP {exc.status}): "
                             f"{message[:600]}") from None

    def merge_patch(self, api_version, kind, name, namespace, patch):
        return self.dyn.patch(self.resource(api_version, kind), body=patch, name=name, namespace=namespace,
                              content_type="application/merge-patch+json")

    def read_secret(self, namespace, name):
        """{key: str} of a Secret, decoded, or None if there is none. The caller registers what is
        secret in it (secrets.register) before anything can print it."""
        import base64

        obj = self.get("v1", "Secret", name, namespace)
        if obj is None:
            return None
        return {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}

    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or None if there is none."""
        from kubernetes.dynamic.exceptions import NotFoundError

        try:
            return self.dyn.get(self.resource(api_version, kind), name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def list(self, api_version, kind, namespace=None, label_selector=None):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            res = self.resource(api_version, kind)
        except ResourceNotFoundError:
            return []  # the kind is not installed (no CRD): nothing of it exists
        return self.dyn.get(res, namespace=namespace, label_selector=label_selector).to_dict()["items"]

    def delete(self, api_version, kind, name, namespace=None, grace_period_seconds=None):
        """Delete one object (foreground); returns False if it was not there."""
        from kubernetes.dynamic.exceptions import NotFoundError

        body = {"propagationPolicy": "Foreground"}
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        try:
            self.dyn.delete(self.resource(api_version, kind), name=name, namespace=namespace, body=body)
        except NotFoundError:
            return False
        return True

    def pod_log(self, namespace, pod, container=None, tail_lines=None, timeout=30):
        """A container's log as text. Read raw: kubernetes 36 deserialises a body that is not JSON
        as str(bytes), so its read_namespaced_pod_log gives "b'line-1\\n...'" for a plain log."""
        resp = self.core.read_namespaced_pod_log(pod, namespace, container=container, tail_lines=tail_lines,
                                                 _preload_content=False, _request_timeout=timeout)
        try:
            return resp.data.decode(errors="replace")
        finally:
            resp.release_conn()

    def exec(self, namespace, pod, argv, *, input=None, container=None, timeout=60.0):
        """Run argv in the pod: (returncode, stdout bytes, stderr bytes). Bounded: a command still
        running at timeout has its session closed and raises CommandError."""
        from kubernetes.stream import stream
        from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL

        shown = ["kubectl", "exec", "-n", namespace, pod, "--", *argv]
        try:
            ws = stream(self.core.connect_get_namespaced_pod_exec, pod, namespace, command=list(argv),
                        container=container, stdin=input is not None, stdout=True, stderr=True, tty=False,
                        _preload_content=False, binary=True)
        except Exception as exc:  # noqa: BLE001 - the pod is gone, not ready, or the API refused
            raise CommandError(shown, 126, f"cannot exec in pod {namespace}/{pod}: {exc}") from None
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        try:
            if input is not None:
                view = memoryview(input)
                for at in range(0, len(view), STDIN_PIECE):  # frames of a bounded size, not one of 256 MiB
                    ws.write_stdin(bytes(view[at:at + STDIN_PIECE]))
                # EOF on stdin needs the v5 exec protocol (Kubernetes 1.30+, and a client that has it);
                # without it a tool reading stdin to its end runs into the bound.
                close = getattr(ws, "close_channel", None)
                if close:
                    close(0)
            while ws.is_open():
                if time.monotonic() > deadline:
                    raise CommandError(shown, None, (out + err).decode(errors="replace"), timeout=timeout)
                ws.update(timeout=min(1.0, max(0.05, deadline - time.monotonic())))
                out += ws.read_channel(STDOUT_CHANNEL)
                err += ws.read_channel(STDERR_CHANNEL)
            out += ws.read_channel(STDOUT_CHANNEL)
            err += ws.read_channel(STDERR_CHANNEL)
            status = ws.read_channel(ERROR_CHANNEL)
        finally:
            ws.close()
        return exit_status(status), bytes(out), bytes(err)


def refusal(exc):
    """The API server's message if the ApiException says the object is invalid, else None. A schema
    type mismatch under server-side apply is HTTP 500 "failed to create typed patch object", not 422."""
    import json

    try:
        message = json.loads(exc.body).get("message", "")
    except (TypeError, ValueError, AttributeError):
        message = str(exc.body)
    if exc.status in (400, 422) or (exc.status == 500 and "typed patch" in message):
        return message
    return None


def exit_status(status):
    """The exit code from the exec error channel's Status (a YAML/JSON document)."""
    import yaml

    if not status:
        return 0
    doc = yaml.safe_load(status if isinstance(status, str) else status.decode(errors="replace")) or {}
    if doc.get("status") == "Success":
        return 0
    for cause in (doc.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    return 126  # the command could not be started (not found, not executable)
