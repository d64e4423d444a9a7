"""The MinIO a sharedfs check starts on Rook (apps.minio_server): its own Deployment on the run's
directory of the shared PVC, pinned to the node of the client it serves through, behind a NodePort,
with the run's MinIO credentials from the Secret and never in the document."""

from ceph_conformance.targets.rook import apps
from ceph_conformance.targets.rook.labels import PART_LABEL, RUN_LABEL

from .conftest import PASSWORDS, RUN_ID, three_nodes


def test_a_checks_minio_serves_the_runs_directory_from_the_clients_node():
    s = three_nodes()
    deployment, service = apps.minio_server(s, 4, "cconf-fs-1/dir-2/minio", "cconf-worker3")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "cconf-worker3"}
    mount = pod["containers"][0]["volumeMounts"][0]
    assert mount["subPath"] == "cconf-fs-1/dir-2/minio" and mount["mountPath"] == "/data"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == f"{s.name}-shared"
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    selected = deployment["spec"]["selector"]["matchLabels"]
    assert selected.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["type"] == "NodePort" and service["spec"]["selector"] == selected
    for doc in (deployment, service):
        assert doc["metadata"]["labels"][RUN_LABEL] == RUN_ID and doc["metadata"]["labels"][PART_LABEL] == "sharedfs"
        assert doc["metadata"]["name"] == f"{s.name}-minio-check-4"
        assert PASSWORDS["minio"] not in str(doc)
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in pod["containers"][0]["env"]}
    assert env["MINIO_ROOT_PASSWORD"] == {"name": f"{s.name}-credentials", "key": "minio-root-password"}


def test_the_bring_up_minio_is_left_as_it_was():
    s = three_nodes()
    deployment, service = apps.minio(s)
    assert service["spec"]["type"] == "ClusterIP" and "nodeSelector" not in deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["subPath"] == "minio"
