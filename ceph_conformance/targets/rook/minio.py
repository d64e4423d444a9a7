"""MinIO on Rook for the sharedfs checks: the official image in its own Deployment (apps.minio_server),
serving the run's directory on the shared CephFS PVC from the node of the client pod it serves
through, behind a NodePort. Its root user is the run's (the apps' credentials Secret). Moved to
another client, it is deleted and made again on that client's node: a new pod, a new CephFS client.

Written against the Kubernetes API and unit-tested against the schema; not yet run on a cluster
(none can run on these machines)."""

from posixpath import relpath

from ...clients.minio_files import serving
from ...clients.s3 import S3Credentials
from ...dataplane.minio import MinioServer
from ...errors import SetupError
from ...secrets import register
from ...waits import WaitTimeout, wait_for
from .apps import SHARED_MOUNT, minio_server
from .readiness import pod_problem


class RookMinio(MinioServer):
    def __init__(self, kube, settings, client, path, index):
        self.kube = kube
        self.s = settings
        self.path = path
        self.index = index
        self.docs = None
        self.url = None
        self.version = settings.minio_image
        data = kube.read_secret(settings.apps_namespace, f"{settings.name}-credentials")
        if not data:
            raise SetupError(f"no {settings.name}-credentials Secret in {settings.apps_namespace}: the run's apps "
                             "were not deployed")
        user = data["minio-root-user"]
        self.credentials = S3Credentials(user, user, register(data["minio-root-password"]))
        self._serve(client)

    def _serve(self, client):
        self.client = client
        self.client_name = client.name
        pod = self.kube.get("v1", "Pod", client.pod, client.namespace) or {}
        self.node = (pod.get("spec") or {}).get("nodeName")
        if not self.node:
            raise SetupError(f"client pod {client.pod} is not on a node")
        self.sub_path = relpath(client._path(self.path), SHARED_MOUNT)

    def start(self, timeout=120):
        from .objectstore import endpoint_of

        if self.docs is not None:
            return
        self.docs = minio_server(self.s, self.index, self.sub_path, self.node)
        for doc in self.docs:
            self.kube.apply(doc)
        deployment, service = self.docs
        name, ns = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
        svc = self.kube.get("v1", "Service", service["metadata"]["name"], ns)
        url = endpoint_of(self.kube.list("v1", "Node"), svc, self.s.node_address)

        def ready():
            pods = self.kube.list("v1", "Pod", ns, f"app={name}")
            problems = [pod_problem(p) for p in pods]
            if not pods or any(problems):
                return False, f"pods: {problems or 'none yet'}"
            return serving(url)

        try:
            wait_for(ready, what=f"MinIO {name} on node {self.node}", timeout=timeout, interval=2)
        except WaitTimeout as exc:
            self.stop()
            raise SetupError(str(exc)) from None
        self.url = url

    def stop(self):
        if self.docs is None:
            return
        deployment, service = self.docs
        ns = deployment["metadata"]["namespace"]
        name = deployment["metadata"]["name"]
        self.kube.delete("v1", "Service", service["metadata"]["name"], ns)
        self.kube.delete("apps/v1", "Deployment", name, ns, grace_period_seconds=30)
        self.docs = None
        self.url = None

        def gone():  # the next server must not share the directory with this one
            pods = self.kube.list("v1", "Pod", ns, f"app={name}")
            return not pods, f"{len(pods)} pod(s) of {name} still there"

        try:
            wait_for(gone, what=f"MinIO {name} to end", timeout=90, interval=2)
            self.stop_problem = None
        except WaitTimeout as exc:
            self.stop_problem = str(exc)  # close() goes on; a move refuses to start a second server

    def move_to(self, client):
        self.stop()
        if getattr(self, "stop_problem", None):
            raise SetupError(f"the MinIO serving through {self.client_name} did not end: {self.stop_problem}")
        self._serve(client)
