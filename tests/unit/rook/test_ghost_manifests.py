"""Ghost on Rook (targets/rook/ghost.py; not yet run on a cluster): what it applies validates against
Kubernetes' strict schemas for every version of the matrix, keeps the password out of the
manifests but in a Secret, mounts the client's directory of the shared PVC, and runs on the client's node."""

import copy

import pytest

from ceph_conformance.targets.rook import block, ghost, labels, validation
from ceph_conformance.targets.rook.sharedfs import PodFilesystemClient, RookSharedFilesystem

from .conftest import KUBERNETES_VERSIONS, OPTION_SETS, RUN_ID

PASSWORD = "ghost-db-pass-for-tests-0123"


def _app(option_set="kind-default"):
    s = OPTION_SETS[option_set][0]()
    fs = RookSharedFilesystem(None, s, None, directory="cconf-dir-1")
    client = PodFilesystemClient(None, s.apps_namespace, f"{s.name}-fs-client-2", "/shared", 60).subdir("cconf-dir-1")
    db = block.RookDatabase(block.RookBlockStorage(None, s, None, None), f"{s.name}-gw0-db-1")
    app = fs.ghost(client.subdir("module-dir"), db, "ghost")
    app.site["password"] = PASSWORD
    return s, app


def _documents(s, app, node="cconf-worker2"):
    return [ghost.ghost_secret(s, app.site["secret"], app.site["password"]),
            ghost.database_service(s, app.database.name), ghost.ghost_service(s, app.name),
            ghost.ghost_deployment(s, app.name, url="http://172.18.0.3:31234", content_subpath=app.content_subpath,
                                   database_host=app.database.name, site=app.site, node=node, replicas=1)]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("option_set", ["kind-default", "existing-rook"])
def test_ghost_documents_validate(option_set, version):
    s, app = _app(option_set)
    for doc in _documents(s, app):
        validation.validate_builtin(doc, version)
        assert labels.run_of(doc) == RUN_ID and doc["metadata"]["namespace"] == s.apps_namespace


def test_a_wrong_field_in_ghosts_deployment_is_caught():
    s, app = _app()
    bad = copy.deepcopy(_documents(s, app)[-1])
    bad["spec"]["template"]["spec"]["containers"][0]["envFrom"] = "not-a-list"
    with pytest.raises(validation.InvalidManifest, match="envFrom"):
        validation.validate_builtin(bad, KUBERNETES_VERSIONS[-1])


def test_ghost_runs_on_the_clients_node_with_its_directory_and_the_password_only_in_the_secret():
    s, app = _app()
    secret, db_service, service, deployment = _documents(s, app)
    assert app.content_subpath == "cconf-dir-1/module-dir/ghost"  # as the client pod sees /shared/...
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["volumeMounts"] == [{"name": "shared", "mountPath": ghost.CONTENT_MOUNT,
                                          "subPath": "cconf-dir-1/module-dir/ghost"}]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == f"{s.name}-shared"
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "cconf-worker2"}
    env = {e["name"]: e for e in container["env"]}
    assert env["database__connection__host"]["value"] == db_service["metadata"]["name"] == app.database.name
    assert env["database__connection__password"]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
    assert PASSWORD not in str(deployment) and PASSWORD not in str(service)
    assert secret["stringData"] == {"database-password": PASSWORD}
    assert env["imageOptimization__resize"]["value"] == "false"  # uploads stored as sent: bytes comparable
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert db_service["spec"]["selector"] == {"app": app.database.name}  # the block database's MySQL pod
    assert service["spec"]["type"] == "NodePort" and service["spec"]["selector"] == {"app": app.name}


def test_the_same_database_and_path_is_the_same_site_from_another_client():
    s = OPTION_SETS["kind-default"][0]()
    fs = RookSharedFilesystem(None, s, None, directory="d")
    db = block.RookDatabase(block.RookBlockStorage(None, s, None, None), f"{s.name}-gw0-db-1")
    a = PodFilesystemClient(None, s.apps_namespace, f"{s.name}-fs-client-1", "/shared", 60).subdir("d")
    b = PodFilesystemClient(None, s.apps_namespace, f"{s.name}-fs-client-2", "/shared", 60).subdir("d")
    first, second = fs.ghost(a, db, "ghost"), fs.ghost(b, db, "ghost")
    assert first.site is second.site and first.name != second.name
    other = fs.ghost(a, db, "ghost-2")
    assert other.site["database"] != first.site["database"]
