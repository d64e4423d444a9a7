"""What the generated manifests promise: OSD devices only by name, every resource marked with the
run, Rook's release patched as objects without touching the copy read."""

import pytest

from ceph_conformance.targets.rook import apps, cluster, labels, manifests, operator
from ceph_conformance.targets.rook.settings import RookSettings

from .conftest import OPTION_SETS, PASSWORDS, RUN_ID


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_osds_are_only_on_devices_listed_by_name(release, option_set):
    make, _, deploy_rook = OPTION_SETS[option_set]
    s = make()
    docs = [d for p in manifests.plan(release, s, PASSWORDS, deploy_rook) for d in p.documents
            if d["kind"] != "CustomResourceDefinition"]  # whose schemas name every field
    for node in _walk(docs):
        assert node.get("useAllDevices") in (None, False), "useAllDevices wipes whatever disks a node has"
        assert "deviceFilter" not in node and "devicePathFilter" not in node
    clusters = [d for d in docs if d["kind"] == "CephCluster"]
    if deploy_rook:
        (cc,) = clusters
        storage = cc["spec"]["storage"]
        assert storage["useAllNodes"] is False and storage["useAllDevices"] is False
        assert {n["name"]: [d["name"] for d in n["devices"]] for n in storage["nodes"]} == s.nodes
    else:
        assert clusters == [], "inside an existing Rook the run creates no CephCluster"


def test_a_node_without_devices_is_refused():
    s = RookSettings(RUN_ID, nodes={"a": ["/dev/loop1"], "b": []})
    with pytest.raises(ValueError, match="listed by name"):
        cluster.ceph_cluster(s)


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_every_resource_carries_the_run_label_and_the_runs_own_a_run_name(release, option_set):
    make, _, deploy_rook = OPTION_SETS[option_set]
    s = make()
    for phase in manifests.plan(release, s, PASSWORDS, deploy_rook):
        for doc in phase.documents:
            assert labels.run_of(doc) == RUN_ID, f"{doc['kind']} {doc['metadata']['name']} is not marked"
            if phase.name != "operator":  # Rook's own resources keep Rook's names
                assert doc["metadata"]["name"].startswith(f"cconf-{RUN_ID}"), doc["metadata"]["name"]
            template = doc.get("spec", {}).get("template")
            if template:
                assert template["metadata"]["labels"][labels.RUN_LABEL] == RUN_ID  # pods are selected too


def test_the_operator_accepts_loop_devices_and_the_release_copy_is_untouched(release):
    s = OPTION_SETS["one-node"][0]()
    docs = operator.operator_documents(release, s)
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "rook-ceph-operator-config"]
    assert config["data"]["ROOK_CEPH_ALLOW_LOOP_DEVICES"] == "true"
    (driver,) = [d for d in docs if d["kind"] == "Driver" and "cephfs" in d["metadata"]["name"]]
    # Rook v1.20.6's CRD allows kernel or autodetect; FUSE is the StorageClass's mounter (the API
    # server refused "fuse" on the test bed: tests/testbed/test_rook_layer_apply.py)
    assert driver["spec"]["cephFsClientType"] == "autodetect"
    (fs_class,) = [d for d in cluster.storage(s) if d["kind"] == "StorageClass" and "cephfs" in d["provisioner"]]
    assert fs_class["parameters"]["mounter"] == "fuse"
    (original,) = [d for d in release.documents("operator.yaml") if d.get("kind") == "ConfigMap"
                   and d["metadata"]["name"] == "rook-ceph-operator-config"]
    assert original["data"]["ROOK_CEPH_ALLOW_LOOP_DEVICES"] == "false"
    assert labels.RUN_LABEL not in (original["metadata"].get("labels") or {})


def test_rook_is_installed_only_in_its_own_namespace(release):
    s = RookSettings(RUN_ID, nodes={"a": ["/dev/loop1"]}, operator_namespace="storage")
    with pytest.raises(ValueError, match="rook-ceph"):
        operator.operator_documents(release, s)


def test_the_toolbox_is_run_named_with_the_runs_ceph_image(release):
    s = OPTION_SETS["four-by-two"][0]()
    tools = operator.toolbox(release, s)
    assert tools["metadata"]["name"] == s.toolbox and tools["metadata"]["namespace"] == s.namespace
    assert tools["spec"]["selector"]["matchLabels"] == {"app": s.toolbox}
    assert tools["spec"]["template"]["metadata"]["labels"]["app"] == s.toolbox
    assert tools["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/ceph/ceph:v19.2.3"


def test_small_cluster_settings_and_mutes_are_in_the_cluster_and_the_report():
    s = OPTION_SETS["one-node"][0]()
    conf = cluster.ceph_cluster(s)["spec"]["cephConfig"]["global"]
    assert conf["mon_data_avail_warn"] == "10" and conf["osd_pool_default_size"] == "1"
    assert conf["mon_warn_on_pool_no_redundancy"] == "false"  # size 1 is this option set's choice
    assert conf["auth_allow_insecure_global_id_reclaim"] == "false"
    spec = cluster.ceph_cluster(s)["spec"]
    assert spec["mon"] == {"count": 1, "allowMultiplePerNode": False}
    big = OPTION_SETS["four-by-two"][0]()
    assert big.cluster_settings()["mute_health"] == ["MON_DISK_LOW"]
    assert "mon_warn_on_pool_no_redundancy" not in cluster.ceph_cluster(big)["spec"]["cephConfig"]["global"]


def test_the_apps_share_one_readwritemany_volume_and_mysql_has_its_own():
    s = OPTION_SETS["kind-default"][0]()
    docs = apps.workloads(s, PASSWORDS)
    claims = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    assert claims[f"{s.name}-shared"]["accessModes"] == ["ReadWriteMany"]
    assert claims[f"{s.name}-shared"]["storageClassName"] == s.storage_class("cephfs")
    assert claims[f"{s.name}-mysql-data"]["accessModes"] == ["ReadWriteOnce"]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for app in ("minio", "ghost"):
        spec = deployments[f"{s.name}-{app}"]["spec"]
        assert spec["replicas"] == 1  # neither runs several servers on one directory
        assert spec["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == f"{s.name}-shared"
    ghost = deployments[f"{s.name}-ghost"]["spec"]["template"]["spec"]["containers"][0]
    ghost_env = {e["name"]: e for e in ghost["env"]}
    assert ghost_env["database__connection__host"]["value"] == f"{s.name}-mysql"
    assert "value" not in ghost_env["database__connection__password"]  # from the Secret, never inline
    clients = [d for d in docs if d["kind"] == "Pod"]
    assert len(clients) == s.fs_clients
    assert all(c["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == f"{s.name}-shared" for c in clients)


def test_bucket_claims_and_the_external_service_point_at_the_runs_object_store():
    s = OPTION_SETS["one-node"][0]()
    sc = cluster.bucket_storage_class(s)
    assert sc["provisioner"] == "rook-ceph.ceph.rook.io/bucket"
    assert sc["parameters"] == {"objectStoreName": s.object_store, "objectStoreNamespace": s.namespace}
    claims = [cluster.bucket_claim(s, r) for r in cluster.BUCKET_CLAIM_ROLES]
    assert len({c["metadata"]["name"] for c in claims}) == 2
    assert all(c["spec"]["storageClassName"] == sc["metadata"]["name"] for c in claims)
    svc = cluster.rgw_external_service(s)
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["nodePort"] == 30080
    assert svc["spec"]["selector"]["rook_object_store"] == s.object_store


def test_teardown_removes_the_runs_parts_before_rook_itself(release):
    """Rook's namespace holds both the run's resources and (with --deploy-rook) Rook's operator,
    labelled with the run too: the first pass of teardown must select only the run's parts, or the
    operator would go before the CephCluster it has to remove."""
    from ceph_conformance.targets.rook.layer import RUN_PARTS, run_parts_selector

    s = OPTION_SETS["kind-default"][0]()
    phases = {p.name: p.documents for p in manifests.plan(release, s, PASSWORDS, True)}
    part = lambda d: d["metadata"]["labels"][labels.PART_LABEL]  # noqa: E731
    assert not {part(d) for d in phases["operator"] + phases["cluster"]} & set(RUN_PARTS)
    in_rooks_namespace = [d for d in phases["tools"] + phases["storage"]
                          if d["metadata"].get("namespace") != s.apps_namespace]
    assert in_rooks_namespace and all(part(d) in RUN_PARTS for d in in_rooks_namespace)
    assert run_parts_selector(RUN_ID) == (f"ceph-conformance/run={RUN_ID},ceph-conformance/part in "
                                          "(tools,block,sharedfs,object)")
    assert part(cluster.object_user(s, "u")) in RUN_PARTS


def test_the_rook_manifests_command_prints_what_a_run_applies(release):
    import subprocess
    import sys

    import yaml

    proc = subprocess.run([sys.executable, "-m", "ceph_conformance", "rook-manifests", "--osd-device=n1:/dev/sdb",
                           "--osd-device=n2:/dev/sdb", "--osd-device=n2:/dev/sdc", "--run-id", RUN_ID],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    (cc,) = [d for d in docs if d["kind"] == "CephCluster"]
    assert {n["name"]: [d["name"] for d in n["devices"]] for n in cc["spec"]["storage"]["nodes"]} == {
        "n1": ["/dev/sdb"], "n2": ["/dev/sdb", "/dev/sdc"]}
    assert all(labels.run_of(d) == RUN_ID for d in docs)
    bad = subprocess.run([sys.executable, "-m", "ceph_conformance", "rook-manifests", "--osd-device=n1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("--osd-device n1: give NODE:/dev/DEVICE")


def test_block_resources_are_the_runs_and_a_clone_is_a_retained_static_volume():
    from ceph_conformance.targets.rook import block

    s = OPTION_SETS["kind-default"][0]()
    storage = block.RookBlockStorage(None, s, None, None)
    db = block.RookDatabase(storage, f"{s.name}-gw0-db-1")
    dep = db.deployment()
    assert dep["spec"]["replicas"] == 0 and dep["metadata"]["name"] == db.name
    assert dep["spec"]["selector"]["matchLabels"] == {"app": db.name}
    (volume,) = dep["spec"]["template"]["spec"]["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == db.name
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--innodb-flush-log-at-trx-commit=1" in args  # a committed transaction is flushed
    pv = block.static_pv(s, "c", s.pool, "img", 4 * 1024**3)
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"  # the suite removes the clone image itself
    assert pv["spec"]["mountOptions"] == ["nouuid"]  # the clone's XFS has its origin's UUID
    assert pv["spec"]["csi"]["volumeAttributes"]["staticVolume"] == "true"
    pvc = storage._pvc("c", 4 * 1024**3, static_pv="c")
    assert pvc["spec"]["storageClassName"] == "" and pvc["spec"]["volumeName"] == "c"
    for doc in (dep, pv, pvc, block.RookRawDevice(storage, "r")._pod_doc()):
        assert labels.run_of(doc) == RUN_ID and doc["metadata"]["labels"][labels.PART_LABEL] == "block"
