"""Rook 1.12 (the newest release whose operator builds from the Go module proxy): its install as the
suite patches it and the run's own documents validate as 1.20's do (kubernetes-validate for built-in
kinds, Rook 1.12's own CRD schemas for custom resources); the patch allows loop devices, runs the
locally built operator image, never pulls, and installs no csi-operator.yaml."""

import dataclasses

import pytest

from ceph_conformance.errors import SetupError
from ceph_conformance.targets.rook import build, cluster, manifests, operator, settings, validation
from ceph_conformance.targets.rook import release as rook_release
from ceph_conformance.targets.rook.settings import default_ceph_image

from .conftest import OPTION_SETS, PASSWORDS, three_nodes
from .test_manifest_validation import _plan

VERSION = "1.12.11"
# Rook 1.12 documents Kubernetes 1.22 to 1.28; kubernetes-validate has schemas from 1.25. And 1.36:
# the test bed's Kubernetes, where it runs (--allow-unsupported-kubernetes).
KUBERNETES_VERSIONS = ("1.25", "1.26", "1.27", "1.28", "1.36")
OPERATOR_IMAGE = "localhost/ceph-conformance/rook-ceph:v1.12.11-ceph18.2.7"
CEPH_IMAGE = "localhost/ceph-conformance/ceph:18.2.7"
# What a run on the test bed gives: the images built here, nothing pulled, no CSI (no ceph-csi image).
ON_THE_BED = {"rook_version": VERSION, "operator_image": OPERATOR_IMAGE, "ceph_image": CEPH_IMAGE,
              "image_pull_policy": "Never", "csi": False}


@pytest.fixture(scope="module")
def release112():
    return rook_release.Release.for_options(VERSION)


@pytest.fixture(scope="module")
def schemas112(release112):
    return release112.crd_schemas()


def _bed(make=three_nodes, **more):
    return dataclasses.replace(make(), **{**ON_THE_BED, **more})


def test_rook_112s_release_has_no_csi_operator_and_its_own_crds(release112, schemas112):
    assert release112.operator_files == ("crds.yaml", "common.yaml", "operator.yaml")
    assert not (release112.dir / "csi-operator.yaml").exists()
    assert ("ceph.rook.io/v1", "CephCluster") in schemas112
    assert not any(group.startswith("csi.ceph.io/") for group, _ in schemas112)
    # The 1.12 CephCluster has no cephConfig: the schemas are 1.12's, not 1.20's.
    assert "cephConfig" not in schemas112[("ceph.rook.io/v1", "CephCluster")]["properties"]["spec"]["properties"]
    assert release112.image() == "rook/ceph:v1.12.11"


def test_rook_manifests_dir_needs_csi_operator_only_from_118(release112, tmp_path):
    for name in ("crds.yaml", "common.yaml", "operator.yaml", "toolbox.yaml"):
        (tmp_path / name).write_text((release112.dir / name).read_text())
    assert rook_release.Release(tmp_path, VERSION).operator_files[-1] == "operator.yaml"
    with pytest.raises(SetupError, match=r"--rook-manifests .*: no csi-operator\.yaml there"):
        rook_release.Release(tmp_path, "1.20.6")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rook_112s_install_as_patched_validates(release112, schemas112, version):
    for client in ("kernel", "fuse"):
        docs = operator.operator_documents(release112, _bed(cephfs_client_type=client))
        assert len(docs) > 50
        for doc in docs:
            validation.validate(doc, version, schemas112)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_the_runs_own_documents_validate_on_rook_112(release112, schemas112, option_set, version):
    checked = 0
    for phase in _plan(release112, option_set, **ON_THE_BED):
        if phase.name == "operator":
            continue
        for doc in phase.documents:
            validation.validate(doc, version, schemas112)
            checked += 1
    assert checked >= 20


def test_the_operator_patch_for_112(release112):
    docs = operator.operator_documents(release112, _bed())
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "rook-ceph-operator-config"]
    data = config["data"]
    assert data["ROOK_CEPH_ALLOW_LOOP_DEVICES"] == "true"
    assert data["ROOK_ENABLE_DISCOVERY_DAEMON"] == "false"
    assert data["ROOK_CSI_ENABLE_RBD"] == data["ROOK_CSI_ENABLE_CEPHFS"] == data["ROOK_CSI_ENABLE_NFS"] == "false"
    assert data["CSI_FORCE_CEPHFS_KERNEL_CLIENT"] == "true"
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == OPERATOR_IMAGE
    assert container["imagePullPolicy"] == "Never"
    # Nothing of a CSI operator: 1.12's operator deploys ceph-csi itself, configured above.
    assert not [d for d in docs
                if d["apiVersion"].startswith("csi.ceph.io/") or d["kind"] in ("Driver", "OperatorConfig")]
    assert {d["metadata"]["labels"]["ceph-conformance/part"] for d in docs} == {"operator"}

    fuse = operator.operator_documents(release112, _bed(cephfs_client_type="fuse", csi=True))
    (config,) = [d for d in fuse if d["metadata"]["name"] == "rook-ceph-operator-config"]
    assert config["data"]["CSI_FORCE_CEPHFS_KERNEL_CLIENT"] == "false"
    assert config["data"]["ROOK_CSI_ENABLE_CEPHFS"] == "true"  # as the release ships it


def test_releases_own_operator_image_when_none_is_given(release112):
    s = dataclasses.replace(three_nodes(), rook_version=VERSION)
    (deployment,) = [d for d in operator.operator_documents(release112, s) if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "rook/ceph:v1.12.11"
    assert "imagePullPolicy" not in container


def test_csi_cannot_be_turned_off_where_the_csi_operator_deploys_it(release):
    with pytest.raises(ValueError, match="Rook 1.20.6 deploys ceph-csi through csi-operator.yaml"):
        operator.operator_documents(release, dataclasses.replace(three_nodes(), csi=False))


def test_the_cluster_phase_of_112_sets_ceph_through_rook_config_override(release112):
    s = _bed()
    phases = {p.name: p for p in manifests.plan(release112, s, PASSWORDS)}
    override, ceph_cluster = phases["cluster"].documents
    assert (override["kind"], override["metadata"]["name"]) == ("ConfigMap", "rook-config-override")
    assert override["metadata"]["namespace"] == s.namespace
    text = override["data"]["config"]
    assert text.startswith("[global]\n")
    assert "mon_data_avail_warn = 10\n" in text and "auth_allow_insecure_global_id_reclaim = false\n" in text
    assert "cephConfig" not in ceph_cluster["spec"]
    assert ceph_cluster["spec"]["cephVersion"] == {"image": CEPH_IMAGE, "allowUnsupported": False,
                                                   "imagePullPolicy": "Never"}
    assert ceph_cluster["spec"]["storage"]["useAllDevices"] is False
    (toolbox,) = phases["tools"].documents
    (container,) = toolbox["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["imagePullPolicy"]) == (CEPH_IMAGE, "Never")
    # 1.12's subvolume group would be named by metadata.name, not the `csi` ceph-csi uses: not made.
    assert "CephFilesystemSubVolumeGroup" not in {d["kind"] for d in phases["storage"].documents}
    # 1.20 keeps its cephConfig and subvolume group, and no override ConfigMap.
    s120 = three_nodes()
    assert [d["kind"] for d in cluster.cluster_documents(s120)] == ["CephCluster"]
    assert "CephFilesystemSubVolumeGroup" in {d["kind"] for d in cluster.storage(s120)}


def test_a_120_field_is_refused_by_112s_schemas(release112, schemas112):
    doc = cluster.ceph_cluster(dataclasses.replace(_bed(), rook_version="1.20.6"))  # carries cephConfig
    with pytest.raises(validation.InvalidManifest, match=r"CephCluster .*cephConfig"):
        validation.validate(doc, "1.28", schemas112)


def test_default_ceph_image_follows_the_rook_release():
    assert default_ceph_image("1.12.11") == "quay.io/ceph/ceph:v17.2.6"  # 1.12.11's cluster.yaml
    assert default_ceph_image("1.20.6") == "quay.io/ceph/ceph:v20.2.4"


def test_the_build_module_is_rooks_own_go_mod_renamed_and_requiring_rook(release112):
    rook_go_mod = (release112.dir.parent.parent / "go.mod").read_text()
    text = build.scratch_go_mod(rook_go_mod, VERSION)
    assert text.startswith(f"module {build.SCRATCH_MODULE}\n\ngo ")
    assert "module github.com/rook/rook" not in text
    assert text.endswith("\nrequire github.com/rook/rook v1.12.11\n")
    # The excludes are kept: without them k8s.io/client-go v12.0.0+incompatible fails its checksum.
    assert "\tk8s.io/client-go v12.0.0+incompatible\n" in text
    assert text.count("\n") == rook_go_mod.rstrip().count("\n") + 3


def test_only_the_releases_that_build_here_are_built():
    build.buildable("1.12.11")
    with pytest.raises(SetupError) as err:
        build.buildable("1.20.6")
    assert str(err.value) == ("Rook v1.20.6: its operator cannot be built from the Go module proxy (it needs "
                              "github.com/rook/rook/pkg/apis, not served at its commit); Rook 1.11, 1.12 can")


def test_the_kubeconfig_targets_options_reach_the_settings():
    from ceph_conformance.options import RunOptions, validate
    from ceph_conformance.targets.kubeconfig import KubeconfigTarget

    o = RunOptions(target="kubeconfig", kubeconfig="k", deploy_rook=True, osd_devices=["n1:/dev/loop20"],
                   rook_version=VERSION, ceph_image=CEPH_IMAGE, rook_operator_image=OPERATOR_IMAGE,
                   image_pull_policy="Never", rook_csi=False, allow_unsupported_kubernetes=True)
    validate(o)
    s = KubeconfigTarget(o).settings_for("20261201-080433-ab12", {"n1": ["/dev/loop20"]})
    assert (s.rook_version, s.operator_image, s.image_pull_policy, s.csi, s.ceph_image) == (
        VERSION, OPERATOR_IMAGE, "Never", False, CEPH_IMAGE)
    assert KubeconfigTarget(RunOptions(target="kubeconfig", rook_version=VERSION)).settings_for(
        "r", {"n1": ["/dev/sdb"]}).ceph_image == "quay.io/ceph/ceph:v17.2.6"


def test_the_operator_images_name_and_inputs(tmp_path):
    from ceph_conformance.targets.rook import image

    assert image.image_name(VERSION, "18.2.7") == OPERATOR_IMAGE
    assert image.ceph_release_for(VERSION) == "trixie"  # Rook 1.12 runs Quincy and Reef: trixie's 18.2.7
    with pytest.raises(SetupError, match=r"Rook 1\.20\.6: no Ceph image recipe for its operator image"):
        image.ceph_release_for("1.20.6")
    binary, files = tmp_path / "rook", tmp_path / "monitoring"
    binary.write_bytes(b"\x7fELF one")
    files.mkdir()
    (files / "rules.yaml").write_text("a: 1\n")
    first = image._digest([binary, files], ["1", "sha256:ceph"])
    assert image._digest([binary, files], ["1", "sha256:ceph"]) == first
    (files / "rules.yaml").write_text("a: 2\n")  # any input changed: another digest, so a rebuild
    assert image._digest([binary, files], ["1", "sha256:ceph"]) != first
    assert image._digest([binary, files], ["1", "sha256:other-ceph"]) != image._digest([binary, files],
                                                                                       ["1", "sha256:ceph"])


def test_ceph_config_and_the_data_dir_reach_the_cluster_phase(release112):
    """--ceph-config settings follow the small-cluster ones (1.12: in rook-config-override; 1.20: in
    cephConfig), and --rook-data-dir is the CephCluster's dataDirHostPath."""
    extra = settings.parse_ceph_config(["osd_class_dir=/usr/lib/x86_64-linux-gnu/rados-classes"])
    s = dataclasses.replace(_bed(), extra_ceph_config=extra, data_dir_host_path="/var/tmp/bed/rook")
    override, ceph_cluster = {p.name: p for p in manifests.plan(release112, s, PASSWORDS)}["cluster"].documents
    assert "osd_class_dir = /usr/lib/x86_64-linux-gnu/rados-classes\n" in override["data"]["config"]
    assert ceph_cluster["spec"]["dataDirHostPath"] == "/var/tmp/bed/rook"
    s120 = dataclasses.replace(three_nodes(), extra_ceph_config=extra)
    (doc,) = cluster.cluster_documents(s120)
    assert doc["spec"]["cephConfig"]["global"]["osd_class_dir"] == "/usr/lib/x86_64-linux-gnu/rados-classes"
    assert doc["spec"]["dataDirHostPath"] == "/var/lib/rook"
    with pytest.raises(ValueError, match="--ceph-config osd_class_dir: give OPTION=VALUE"):
        settings.parse_ceph_config(["osd_class_dir"])
