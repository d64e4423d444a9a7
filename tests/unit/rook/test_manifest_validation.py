"""Every document the Rook layer applies validates, for several option sets and every Kubernetes
version of the matrix: built-in kinds against kubernetes-validate's strict schemas, Rook's custom
resources against the openAPIV3Schema of the pinned release's CRDs. And validation can fail."""

import copy
import dataclasses
import subprocess
import sys

import pytest
import yaml

from ceph_conformance.targets.rook import apps, block, cluster, manifests, operator, validation

from .conftest import KUBERNETES_VERSIONS, OPTION_SETS, PASSWORDS


def _plan(release, option_set, **settings):
    """The run's phases for an option set (settings: fields of RookSettings to change, e.g. another
    rook_version), with what checks create while they run."""
    make, _, deploy_rook = OPTION_SETS[option_set]
    s = dataclasses.replace(make(), **settings)
    phases = manifests.plan(release, s, PASSWORDS, deploy_rook=deploy_rook)
    # What checks create while they run: S3 users, a web server's Service, a MinIO's Deployment.
    storage = block.RookBlockStorage(None, s, None, None)
    db = block.RookDatabase(storage, f"{s.name}-gw0-db-1")
    during = [cluster.object_user(s, f"{s.name}-gw0-user-1"), apps.web_service(s, 1, 2, 18081),
              *apps.minio_server(s, 3, "cconf-run-fs-1/cconf-run-dir-2/minio", "cconf-worker2"),
              storage._pvc(db.name, 4 * 1024**3), db.deployment(),
              block.static_pv(s, f"{s.name}-gw0-clone-2", s.pool, f"{s.name}-gw0-clone-2", 4 * 1024**3),
              storage._pvc(f"{s.name}-gw0-clone-2", 4 * 1024**3, static_pv=f"{s.name}-gw0-clone-2"),
              storage._pvc(f"{s.name}-gw0-raw-3", 1024**3, volume_mode="Block"),
              block.RookRawDevice(storage, f"{s.name}-gw0-raw-3")._pod_doc()]
    phases.append(manifests.Phase("during-checks", during, "none"))
    return phases


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rooks_install_as_patched_validates(release, schemas, version):
    for option_set in ("kind-default", "one-node"):  # the kernel and the FUSE CephFS client
        s = OPTION_SETS[option_set][0]()
        docs = operator.operator_documents(release, s)
        assert len(docs) > 50, "crds, common, csi-operator and operator should give many documents"
        for doc in docs:
            validation.validate(doc, version, schemas)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_the_runs_own_documents_validate(release, schemas, option_set, version):
    checked = 0
    for phase in _plan(release, option_set):
        if phase.name == "operator":
            continue  # above, once per version: the same for every option set but the CephFS client
        for doc in phase.documents:
            validation.validate(doc, version, schemas)
            checked += 1
    assert checked >= 20


def test_every_custom_kind_applied_has_a_crd_in_the_release(release, schemas):
    kinds = {(d["apiVersion"], d["kind"]) for p in _plan(release, "kind-default") for d in p.documents
             if not validation.is_builtin(d)}
    assert {("ceph.rook.io/v1", "CephCluster"), ("objectbucket.io/v1alpha1", "ObjectBucketClaim"),
            ("csi.ceph.io/v1", "Driver")} <= kinds
    assert kinds <= set(schemas)


# -- validation can fail: a wrong field, a wrong type, in each kind of schema ------------------------

def _cluster_doc():
    return cluster.ceph_cluster(OPTION_SETS["kind-default"][0]())


def test_an_unknown_field_in_a_custom_resource_fails(schemas):
    doc = _cluster_doc()
    doc["spec"]["storage"]["useAllDevice"] = False  # a typo the API server's strict validation rejects
    with pytest.raises(validation.InvalidManifest, match=r"spec\.storage.*useAllDevice"):
        validation.validate(doc, "1.34", schemas)


def test_a_wrong_type_in_a_custom_resource_fails(schemas):
    doc = _cluster_doc()
    doc["spec"]["mon"]["count"] = "three"
    with pytest.raises(validation.InvalidManifest, match=r"spec\.mon\.count"):
        validation.validate(doc, "1.34", schemas)


def test_a_value_out_of_range_in_a_custom_resource_fails(schemas):
    doc = _cluster_doc()
    doc["spec"]["mon"]["count"] = 10  # Rook's CRD allows at most 9 mons
    with pytest.raises(validation.InvalidManifest, match=r"spec\.mon\.count"):
        validation.validate(doc, "1.34", schemas)


def test_a_kind_without_a_crd_fails(schemas):
    doc = _cluster_doc()
    doc["kind"] = "CephClusterz"
    with pytest.raises(validation.InvalidManifest, match="no CRD"):
        validation.validate(doc, "1.34", schemas)


def test_an_unknown_field_in_a_builtin_kind_fails(release, schemas):
    deployment = copy.deepcopy(operator.toolbox(release, OPTION_SETS["kind-default"][0]()))
    deployment["spec"]["replica"] = 1
    with pytest.raises(validation.InvalidManifest, match="replica"):
        validation.validate(deployment, "1.34", schemas)


def test_a_wrong_type_in_a_builtin_kind_fails(release, schemas):
    (pvc,) = [d for p in _plan(release, "kind-default") for d in p.documents
              if d["kind"] == "PersistentVolumeClaim" and d["spec"]["accessModes"] == ["ReadWriteMany"]]
    pvc = copy.deepcopy(pvc)
    pvc["spec"]["accessModes"] = "ReadWriteMany"
    with pytest.raises(validation.InvalidManifest, match="accessModes"):
        validation.validate(pvc, "1.31", schemas)


def test_int_or_string_and_nullable_are_spelt_for_json_schema():
    schema = validation.strict_schema({"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "opt": {"type": "string", "nullable": True},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}}}})
    import jsonschema

    jsonschema.validate({"port": 80, "opt": None, "free": {"b": 1}}, schema)
    jsonschema.validate({"port": "http"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"port": [80]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"other": 1}, schema)


# -- the kubernetes-validate command itself, as a user would run it on the rendered manifests ----------

def _cli(tmp_path, docs, version):
    path = tmp_path / "manifests.yaml"
    path.write_text(manifests.dump(docs))
    return subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "-k", version, str(path)],
                          capture_output=True, text=True, timeout=120)


def test_kubernetes_validate_strict_accepts_the_apps(release, tmp_path):
    docs = [d for p in _plan(release, "kind-default") for d in p.documents
            if validation.is_builtin(d) and p.name != "operator"]
    proc = _cli(tmp_path, docs, "1.36")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kubernetes_validate_strict_rejects_a_wrong_field(release, tmp_path):
    docs = [d for p in _plan(release, "kind-default") for d in p.documents if d["kind"] == "Deployment"]
    bad = copy.deepcopy(docs[0])
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    proc = _cli(tmp_path, [bad], "1.36")
    assert proc.returncode != 0 and "imagePullPolice" in proc.stdout + proc.stderr


def test_dump_round_trips(release):
    docs = [d for p in _plan(release, "one-node") for d in p.documents]
    assert list(yaml.safe_load_all(manifests.dump(docs))) == docs
