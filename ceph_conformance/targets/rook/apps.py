"""The seeds' workloads in the run's namespace: MySQL on an RBD PVC, MinIO and Ghost (one replica
each) on one ReadWriteMany CephFS PVC with Ghost's database in that MySQL, and client pods that
mount the same PVC for the multi-client checks."""

from .labels import PART_LABEL, mark

MYSQL_PORT = 3306
FS_CLIENT_LABEL = "ceph-conformance/fs-client"
SHARED_MOUNT = "/shared"  # where client pods see the shared PVC


def _meta(s, name):
    return {"name": f"{s.name}-{name}", "namespace": s.apps_namespace}


def namespace(s):
    return mark({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": s.apps_namespace}}, s.run_id, "apps")


def credentials_secret(s, passwords):
    """The apps' passwords (made by the caller and registered as secrets): MySQL's root password and
    MinIO's root user. stringData: never printed, and masked if a report ever met it."""
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(s, "credentials"), "type": "Opaque",
           "stringData": {"mysql-root-password": passwords["mysql"], "minio-root-user": "conformance",
                          "minio-root-password": passwords["minio"]}}
    return mark(doc, s.run_id, "apps")


def _secret_env(s, name, key):
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": f"{s.name}-credentials", "key": key}}}


def pvc(s, name, storage_class, size_gib, mode, volume_mode="Filesystem"):
    doc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(s, name),
           "spec": {"accessModes": [mode], "volumeMode": volume_mode, "storageClassName": storage_class,
                    "resources": {"requests": {"storage": f"{size_gib}Gi"}}}}
    return mark(doc, s.run_id, "apps")


def block_pvc(s, name="mysql-data", size_gib=None):
    return pvc(s, name, s.storage_class("rbd"), size_gib or s.block_size_gib, "ReadWriteOnce")


def shared_pvc(s):
    return pvc(s, "shared", s.storage_class("cephfs"), s.shared_size_gib, "ReadWriteMany")


def _deployment(s, app, containers, volumes, strategy="Recreate"):
    labels = {"app": f"{s.name}-{app}"}
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(s, app),
           "spec": {"replicas": 1, "strategy": {"type": strategy}, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": dict(labels)},
                                 "spec": {"containers": containers, "volumes": volumes,
                                          "terminationGracePeriodSeconds": 30}}}}
    return mark(doc, s.run_id, "apps")


def _service(s, app, port):
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": _meta(s, app),
           "spec": {"type": "ClusterIP", "selector": {"app": f"{s.name}-{app}"},
                    "ports": [{"name": app, "port": port, "targetPort": port, "protocol": "TCP"}]}}
    return mark(doc, s.run_id, "apps")


def _claim_volume(s, name, claim):
    return {"name": name, "persistentVolumeClaim": {"claimName": f"{s.name}-{claim}"}}


def mysql(s, claim="mysql-data", app="mysql"):
    """MySQL with its datadir on an RBD PVC. Every commit flushed (innodb_flush_log_at_trx_commit=1,
    sync_binlog=1): a crash (the pod force-deleted) may lose only what the storage did not keep."""
    container = {
        "name": "mysql", "image": s.mysql_image,
        "args": ["--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1", "--innodb-doublewrite=ON"],
        "env": [_secret_env(s, "MYSQL_ROOT_PASSWORD", "mysql-root-password"),
                {"name": "MYSQL_DATABASE", "value": "ghost"}],
        "ports": [{"containerPort": MYSQL_PORT, "name": "mysql"}],
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
        "readinessProbe": {"exec": {"command": ["mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]},
                           "periodSeconds": 5, "failureThreshold": 3},
    }
    return [_deployment(s, app, [container], [_claim_volume(s, "data", claim)]), _service(s, app, MYSQL_PORT)]


def minio(s):
    """MinIO serving a directory of the shared PVC (one server: MinIO takes no second one there)."""
    container = {
        "name": "minio", "image": s.minio_image, "args": ["server", "/data", "--address", ":9000"],
        "env": [_secret_env(s, "MINIO_ROOT_USER", "minio-root-user"),
                _secret_env(s, "MINIO_ROOT_PASSWORD", "minio-root-password")],
        "ports": [{"containerPort": 9000, "name": "s3"}],
        "volumeMounts": [{"name": "shared", "mountPath": "/data", "subPath": "minio"}],
        "readinessProbe": {"httpGet": {"path": "/minio/health/ready", "port": 9000}, "periodSeconds": 5},
    }
    return [_deployment(s, "minio", [container], [_claim_volume(s, "shared", "shared")]),
            _service(s, "minio", 9000)]


def minio_server(s, index, sub_path, node):
    """A MinIO a check starts (sharedfs minio()): its own Deployment serving sub_path of the shared
    PVC (the run's directory there), pinned to the node of the client pod it serves through, and
    a NodePort to reach it from the suite. Started again on another node, it is a new pod: another
    CephFS client of the same files."""
    app = f"minio-check-{index}"
    deployment, service = minio(s)
    deployment["metadata"]["name"] = service["metadata"]["name"] = f"{s.name}-{app}"
    labels = {"app": f"{s.name}-{app}"}
    spec = deployment["spec"]
    spec["selector"] = {"matchLabels": labels}
    spec["template"]["metadata"]["labels"] = dict(labels)
    pod = spec["template"]["spec"]
    pod["containers"][0]["volumeMounts"][0]["subPath"] = sub_path
    pod["nodeSelector"] = {"kubernetes.io/hostname": node}
    service["spec"].update(type="NodePort", selector=dict(labels))
    return [mark(deployment, s.run_id, "sharedfs"), mark(service, s.run_id, "sharedfs")]


def ghost(s):
    """Ghost with its content on the shared PVC and its database in the run's MySQL."""
    container = {
        "name": "ghost", "image": s.ghost_image,
        "env": [{"name": "url", "value": "http://localhost:2368"},
                {"name": "database__client", "value": "mysql"},
                {"name": "database__connection__host", "value": f"{s.name}-mysql"},
                {"name": "database__connection__user", "value": "root"},
                _secret_env(s, "database__connection__password", "mysql-root-password"),
                {"name": "database__connection__database", "value": "ghost"}],
        "ports": [{"containerPort": 2368, "name": "http"}],
        "volumeMounts": [{"name": "shared", "mountPath": "/var/lib/ghost/content", "subPath": "ghost"}],
        "readinessProbe": {"httpGet": {"path": "/", "port": 2368}, "periodSeconds": 10, "failureThreshold": 30},
    }
    return [_deployment(s, "ghost", [container], [_claim_volume(s, "shared", "shared")]),
            _service(s, "ghost", 2368)]


def fs_client(s, index):
    """A pod mounting the shared PVC; checks run programs in it by exec. The Ceph image: the nodes
    pull it anyway, and it has the Python 3 the filesystem clients' programs need."""
    container = {"name": "client", "image": s.ceph_image, "command": ["sleep", "infinity"],
                 "workingDir": SHARED_MOUNT,
                 "volumeMounts": [{"name": "shared", "mountPath": SHARED_MOUNT}]}
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(s, f"fs-client-{index}"),
           "spec": {"containers": [container], "volumes": [_claim_volume(s, "shared", "shared")],
                    "terminationGracePeriodSeconds": 5, "restartPolicy": "Always"}}
    doc = mark(doc, s.run_id, "fs-client")
    doc["metadata"]["labels"][FS_CLIENT_LABEL] = str(index)  # a web app's Service selects this pod
    # Spread over nodes where it can: independent clients are best on different kernels.
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {PART_LABEL: "fs-client"}}}
    doc["spec"]["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": term}]}}
    return doc


def web_service(s, index, pod_index, port):
    """A NodePort in front of a web server a check starts in one client pod (sharedfs.PodWebApp)."""
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": _meta(s, f"web-{index}"),
           "spec": {"type": "NodePort", "selector": {FS_CLIENT_LABEL: str(pod_index), PART_LABEL: "fs-client"},
                    "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}]}}
    return mark(doc, s.run_id, "sharedfs")


def workloads(s, passwords):
    """Every app resource of the run, in the order they are applied."""
    docs = [namespace(s), credentials_secret(s, passwords), block_pvc(s), shared_pvc(s)]
    docs += mysql(s) + minio(s) + ghost(s)
    docs += [fs_client(s, i) for i in range(1, s.fs_clients + 1)]
    return docs
