"""Ghost on Rook (written for users; not yet run on a cluster): a Deployment of the official Ghost 5
image (settings.ghost_image) with its content directory a subPath of the shared ReadWriteMany
CephFS PVC (the directory a client pod sees), its database in the MySQL of a block database (an
RBD PVC) through a Service in front of that MySQL, behind a NodePort of its own.

The database and user are made with the MySQL root connection the block database offers; the
password lives in a Secret of the run (stringData), which the pod reads as an environment variable.
"Started on a client" pins the Ghost pod to the node of that client pod: the other client is the
other node's CephFS mount. Configuration as on host targets (host_clients/ghost.py): production
mode, no call home, no staff device verification by mail, uploads stored as sent.
"""

import secrets
from itertools import count
from posixpath import relpath

from ...clients.appdb import create_app_database
from ...clients.web import http_get
from ...dataplane.sharedfs import GhostApp
from ...errors import SetupError, Unsupported
from ...secrets import register
from ...waits import WaitTimeout, wait_for
from . import apps
from .labels import mark
from .readiness import pod_problem

GHOST_PORT = 2368
CONTENT_MOUNT = "/var/lib/ghost/content"  # the official image's content directory
READY_PATH = "/ghost/api/admin/site/"
PART = "ghost"


def ghost_secret(s, name, password):
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": s.apps_namespace},
           "type": "Opaque", "stringData": {"database-password": password}}
    return mark(doc, s.run_id, PART)


def ghost_service(s, name):
    """The NodePort the check reaches Ghost through (its url), selecting this site's pod."""
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": s.apps_namespace},
           "spec": {"type": "NodePort", "selector": {"app": name},
                    "ports": [{"name": "http", "port": GHOST_PORT, "targetPort": GHOST_PORT, "protocol": "TCP"}]}}
    return mark(doc, s.run_id, PART)


def database_service(s, database_name):
    """A ClusterIP Service in front of a block database's MySQL Deployment (which has none: the
    checks reach it by port-forward), for Ghost in the pod network."""
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": database_name, "namespace": s.apps_namespace},
           "spec": {"type": "ClusterIP", "selector": {"app": database_name},
                    "ports": [{"name": "mysql", "port": apps.MYSQL_PORT, "targetPort": apps.MYSQL_PORT,
                               "protocol": "TCP"}]}}
    return mark(doc, s.run_id, PART)


def ghost_deployment(s, name, *, url, content_subpath, database_host, site, node, replicas=0):
    """Ghost on node, its content the PVC's content_subpath, its database site["database"] at
    database_host; at replicas (0 until started)."""
    env = [{"name": "NODE_ENV", "value": "production"},
           {"name": "url", "value": url},
           {"name": "database__client", "value": "mysql"},
           {"name": "database__connection__host", "value": database_host},
           {"name": "database__connection__port", "value": str(apps.MYSQL_PORT)},
           {"name": "database__connection__user", "value": site["user"]},
           {"name": "database__connection__password",
            "valueFrom": {"secretKeyRef": {"name": site["secret"], "key": "database-password"}}},
           {"name": "database__connection__database", "value": site["database"]},
           {"name": "database__connection__charset", "value": "utf8mb4"},
           {"name": "paths__contentPath", "value": CONTENT_MOUNT},
           {"name": "privacy__useTinfoil", "value": "true"},
           {"name": "security__staffDeviceVerification", "value": "false"},
           {"name": "imageOptimization__resize", "value": "false"}]
    container = {
        "name": "ghost", "image": s.ghost_image, "env": env,
        "ports": [{"containerPort": GHOST_PORT, "name": "http"}],
        "volumeMounts": [{"name": "shared", "mountPath": CONTENT_MOUNT, "subPath": content_subpath}],
        "readinessProbe": {"httpGet": {"path": READY_PATH, "port": GHOST_PORT}, "periodSeconds": 5,
                           "failureThreshold": 120},
    }
    labels = {"app": name}
    pod = {"containers": [container], "volumes": [{"name": "shared", "persistentVolumeClaim": {
        "claimName": f"{s.name}-shared"}}], "terminationGracePeriodSeconds": 30,
        "nodeSelector": {"kubernetes.io/hostname": node}}
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": s.apps_namespace},
           "spec": {"replicas": replicas, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": dict(labels)}, "spec": pod}}}
    return mark(doc, s.run_id, PART)


class RookGhostSites:
    """The Ghost sites of one RookSharedFilesystem, keyed by (database, content path)."""

    def __init__(self, kube, settings):
        self.kube = kube
        self.s = settings
        self.sites = {}
        self.apps = []
        self._ids = count(1)

    def app(self, client, database, path):
        from .block import RookDatabase

        if not isinstance(database, RookDatabase):
            raise Unsupported(f"Ghost on Rook needs a database of the run's Rook block storage, not {database!r}")
        key = (database.name, path)
        if key not in self.sites:
            n = len(self.sites) + 1
            self.sites[key] = {"database": f"ghost_{n}", "user": f"ghost_{n}", "secret": f"{self.s.name}-ghost-{n}",
                               "password": register(secrets.token_urlsafe(24)), "database_service": database.name}
        app = RookGhost(self.kube, self.s, client, path, database, self.sites[key],
                        f"{self.s.name}-ghost-{len(self.sites)}-{next(self._ids)}")
        self.apps.append(app)
        return app

    def close(self):
        problems = []
        for app in self.apps:
            try:
                app.remove()
            except Exception as exc:  # noqa: BLE001 - every app is removed; the namespace goes at teardown
                problems.append(f"Ghost {app.name}: {exc}")
        for site in self.sites.values():
            for kind, name in (("Secret", site["secret"]), ("Service", site["database_service"])):
                try:
                    self.kube.delete("v1", kind, name, self.s.apps_namespace)
                except Exception as exc:  # noqa: BLE001 - every one is tried; the namespace goes at teardown
                    problems.append(f"{kind} {name}: {exc}")
        return problems


class RookGhost(GhostApp):
    def __init__(self, kube, settings, client, path, database, site, name):
        self.kube = kube
        self.s = settings
        self.client = client
        self.content_path = path
        self.database = database
        self.site = site
        self.database_name = site["database"]
        self.name = name
        self.url = None
        # The content directory on the PVC: the client pod mounts the PVC at apps.SHARED_MOUNT.
        self.content_subpath = relpath(client._path(path), apps.SHARED_MOUNT)

    def _pods(self):
        return self.kube.list("v1", "Pod", self.s.apps_namespace, f"app={self.name}")

    def _wait(self, probe, what, timeout):
        try:
            wait_for(probe, what=what, timeout=timeout, interval=2)
        except WaitTimeout as exc:
            raise SetupError(f"{exc}; Ghost's log ends: {self.log_tail()}") from None

    def start(self, timeout=600):
        from .objectstore import endpoint_of

        ns = self.s.apps_namespace
        with self.database.connect() as conn:
            create_app_database(conn, self.site["database"], self.site["user"], self.site["password"], host="%")
        self.kube.apply(ghost_secret(self.s, self.site["secret"], self.site["password"]))
        self.kube.apply(database_service(self.s, self.database.name))
        if not self.client.exists(self.content_path):  # the image fills it with its default theme
            self.client.mkdir(self.content_path, parents=True)
        self.kube.apply(ghost_service(self.s, self.name))
        self.url = endpoint_of(self.kube.list("v1", "Node"), self.kube.get("v1", "Service", self.name, ns),
                               self.s.node_address)
        node = self.kube.get("v1", "Pod", self.client.pod, ns)["spec"]["nodeName"]
        self.kube.apply(ghost_deployment(self.s, self.name, url=self.url, content_subpath=self.content_subpath,
                                         database_host=self.database.name, site=self.site, node=node, replicas=1))

        def ready():
            pods = [p for p in self._pods() if not p["metadata"].get("deletionTimestamp")]
            if not any(pod_problem(p) is None for p in pods):
                return False, "; ".join(f"{p['metadata']['name']}: {pod_problem(p)}" for p in pods) or "no pod yet"
            status, _ = http_get(self.url + READY_PATH, timeout=10)
            return status == 200, f"HTTP {status} from {READY_PATH} at {self.url}"

        self._wait(ready, f"Ghost {self.name} on node {node}", timeout)

    def log_tail(self, lines=10):
        pods = self._pods()
        if not pods:
            return "(no Ghost pod)"
        try:
            text = self.kube.pod_log(self.s.apps_namespace, pods[0]["metadata"]["name"], tail_lines=lines, timeout=30)
        except Exception as exc:  # noqa: BLE001 - only for messages
            return f"(no log: {exc})"
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self):
        ns = self.s.apps_namespace
        if self.kube.get("apps/v1", "Deployment", self.name, ns) is not None:
            self.kube.merge_patch("apps/v1", "Deployment", self.name, ns, {"spec": {"replicas": 0}})
            self._wait(lambda: (not self._pods(), f"{len(self._pods())} pod(s) left"), f"Ghost {self.name} to stop",
                       120)

    def remove(self):
        ns = self.s.apps_namespace
        self.kube.delete("apps/v1", "Deployment", self.name, ns)
        self.kube.delete("v1", "Service", self.name, ns)
