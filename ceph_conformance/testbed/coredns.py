"""CoreDNS, the test bed's cluster DNS: built from its Go module, run as a Deployment in kube-system.

The Go module in coredns/ (a module of its own: CoreDNS's cloud plugins bring SDKs kube/ does not
need) requires github.com/coredns/coredns at VERSION and lists it as a tool; `go build` puts the
binary in <cache>/coredns/<version>/bin, under `nice -n 19` and a file lock, as build.py does for
Kubernetes. Its image is the bed's own (debootstrap + buildah) with the binary added. It serves
the `kube-dns` Service at node.CLUSTER_DNS, which the kubelets give pods as their nameserver.

The Corefile has the kubernetes plugin and no `forward`: nothing outside this machine exists for
the bed (and may not be asked), so a name outside cluster.local gets no answer but SERVFAIL.
"""

import os
import re
import subprocess
import time
from pathlib import Path

from filelock import FileLock

from ..errors import SetupError
from . import build

MODULE_DIR = Path(__file__).with_name("coredns")
PACKAGE = "github.com/coredns/coredns"
NAMESPACE = "kube-system"
NAME = "coredns"


def _version():
    found = re.search(r"^\s*github\.com/coredns/coredns (v\S+)", (MODULE_DIR / "go.mod").read_text(), re.M)
    if not found:
        raise SetupError(f"{MODULE_DIR / 'go.mod'} requires no github.com/coredns/coredns version")
    return found.group(1)


VERSION = _version()
IMAGE = f"localhost/ceph-conformance/coredns:{VERSION}"


def binary():
    return build.cache_root() / "coredns" / VERSION / "bin" / "coredns"


def ensure_built(progress=print):
    """Build coredns if the cache lacks it; returns {"coredns": seconds} when built, else {}."""
    path = binary()
    if os.access(path, os.X_OK):
        return {}
    go = build.find_go()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(build.cache_root() / "build.lock")):
        if os.access(path, os.X_OK):
            return {}
        progress(f"building coredns {VERSION} (Go module proxy, nice -n 19) ...")
        started = time.monotonic()
        log = build.cache_root() / "build-coredns.log"
        partial = path.with_name(".coredns.partial")
        argv = ["nice", "-n", "19", go, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(partial), PACKAGE]
        with open(log, "wb") as out:
            try:
                proc = subprocess.run(argv, cwd=MODULE_DIR, env=build.go_env(go), stdout=out,
                                      stderr=subprocess.STDOUT, timeout=build.BUILD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise SetupError(f"building coredns took over {build.BUILD_TIMEOUT_S}s; see {log}") from None
        if proc.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise SetupError(f"building coredns failed (go build exit {proc.returncode}): {' | '.join(tail)}; "
                             f"see {log}")
        os.replace(partial, path)
        seconds = time.monotonic() - started
        progress(f"built coredns in {seconds:.0f}s -> {path}")
        return {"coredns": seconds}


def archive_path():
    from .image import images_dir

    return images_dir() / f"coredns-{VERSION}.oci.tar"


def ensure_image(progress=print):
    """The OCI archive of the bed's image plus the coredns binary, built if missing; returns its path."""
    from .image import _buildah, images_dir
    from .image import ensure_image as base_image

    archive = archive_path()
    if archive.exists():
        return archive
    base = base_image(progress)
    with FileLock(str(images_dir() / "build.lock")):
        if archive.exists():
            return archive
        t0 = time.monotonic()
        made = subprocess.run(_buildah("from", f"oci-archive:{base}"), capture_output=True, text=True, timeout=300)
        if made.returncode != 0:
            raise SetupError(f"buildah from {base} failed: {made.stderr.strip()[-300:]}")
        container = made.stdout.strip().splitlines()[-1]
        partial = archive.with_suffix(".partial")
        try:
            for args in (("copy", container, str(binary()), "/usr/local/bin/coredns"),
                         ("config", "--cmd", '["/usr/local/bin/coredns", "-conf", "/etc/coredns/Corefile"]',
                          "--label", "ceph-conformance=testbed", container),
                         ("commit", "--rm", container, f"oci-archive:{partial}:{IMAGE}")):
                out = subprocess.run(_buildah(*args), capture_output=True, text=True, timeout=600)
                if out.returncode != 0:
                    raise SetupError(f"buildah {args[0]} for the CoreDNS image failed: {out.stderr.strip()[-300:]}")
        except SetupError:
            subprocess.run(_buildah("rm", container), capture_output=True, timeout=120)
            raise
        os.replace(partial, archive)
        progress(f"CoreDNS image made in {time.monotonic() - t0:.0f}s -> {archive}")
    return archive


COREFILE = """.:53 {
    errors
    health :8080
    ready :8181
    kubernetes %s in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
"""


def manifests(cluster_ip, domain):
    labels = {"k8s-app": "kube-dns"}
    meta = {"name": NAME, "namespace": NAMESPACE}
    rules = [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
              "verbs": ["list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]
    probe = {"periodSeconds": 2, "timeoutSeconds": 2, "failureThreshold": 3}
    container = {
        "name": "coredns", "image": IMAGE, "imagePullPolicy": "Never",
        "args": ["-conf", "/etc/coredns/Corefile"], "command": ["/usr/local/bin/coredns"],
        "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                  {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}],
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, **probe},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, **probe, "initialDelaySeconds": 5},
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "20m", "memory": "30Mi"}},
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns"},
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:coredns"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"Corefile": COREFILE % domain}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {**meta, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"serviceAccountName": NAME, "dnsPolicy": "Default",
                                        "priorityClassName": "system-cluster-critical",
                                        "terminationGracePeriodSeconds": 1, "containers": [container],
                                        "volumes": [{"name": "config", "configMap": {"name": NAME}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": NAMESPACE,
                                                             "labels": labels},
         "spec": {"clusterIP": cluster_ip, "selector": labels,
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}},
    ]


def deploy(kubeconfig, timeout):
    """Apply CoreDNS's objects and wait (bounded) until its Deployment is available."""
    from kubernetes import client

    from ..waits import WaitTimeout, wait_for
    from .apply import api_client, server_side_apply
    from .node import CLUSTER_DNS, CLUSTER_DOMAIN

    api = api_client(kubeconfig)
    try:
        server_side_apply(api, manifests(CLUSTER_DNS, CLUSTER_DOMAIN))
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)

        def available():
            d = apps.read_namespaced_deployment(NAME, NAMESPACE)
            if (d.status.available_replicas or 0) >= 1:
                return True, "available"
            pods = core.list_namespaced_pod(NAMESPACE, label_selector="k8s-app=kube-dns").items
            seen = [f"{p.metadata.name} {p.status.phase} "
                    f"{[s.state.waiting.reason for s in p.status.container_statuses or [] if s.state.waiting]}"
                    for p in pods]
            last = ""
            if pods:  # what CoreDNS itself says (the kubernetes plugin not reaching the API, ...)
                try:
                    text = core.read_namespaced_pod_log(pods[0].metadata.name, NAMESPACE, tail_lines=2,
                                                        _preload_content=False).data.decode(errors="replace")
                    last = f"; its log ends: {' | '.join(text.strip().splitlines())[-400:]}"
                except client.exceptions.ApiException:
                    pass
            return False, f"not available; pods: {seen or 'none'}{last}"

        try:
            wait_for(available, what="CoreDNS to be available", timeout=timeout, interval=1.0)
        except WaitTimeout as exc:
            raise SetupError(str(exc)) from None
    finally:
        api.close()
