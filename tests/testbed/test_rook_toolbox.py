"""ToolboxCephTools for real: Ceph's CLI exec'd in a "toolbox" pod on a test bed node, against a real
Ceph cluster of this host (LocalCluster), the suite's HEALTH_OK gate and `ceph`/`rados` calls through
ToolboxCephTools + CephClient. Not Rook: no operator runs; the pod plays the part of Rook's toolbox.

The pod is of an image variant of the test bed's (Debian bookworm's ceph-common added), on the host's
network (the cluster's mons listen on 127.0.0.1); the cluster's ceph.conf and admin keyring reach it
as a Kubernetes Secret only, never through argv or a log.
"""

import os
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from ceph_conformance import secrets
from ceph_conformance.ceph_client import CephClient
from ceph_conformance.gate import run_gate
from ceph_conformance.host.sweep import sweep_run_dir, write_marker
from ceph_conformance.run import new_run_id
from ceph_conformance.targets.local.cluster import LocalCluster, LocalSpec
from ceph_conformance.targets.rook import logs
from ceph_conformance.targets.rook.kube import Kube
from ceph_conformance.targets.rook.layer import RookLayer
from ceph_conformance.targets.rook.settings import RookSettings
from ceph_conformance.targets.rook.tools import ToolboxCephTools
from ceph_conformance.testbed.image import CEPH_IMAGE, ensure_image
from ceph_conformance.waits import wait_for

RUN = new_run_id()
CLUSTER_LOCK = "/tmp/cluster.lock"  # other runs on this machine share its loop devices
LOCK_BOUND_S = 40 * 60
RUN_ROOT = Path(os.environ.get("CCONF_SELFTEST_RUN_ROOT", "/var/tmp/ceph-conformance-selftest"))


@pytest.fixture(scope="module")
def local_ceph():
    """A real Ceph cluster of this host (3 hosts x 1 OSD on loop devices), at HEALTH_OK; removed after."""
    lock = FileLock(CLUSTER_LOCK)
    try:
        lock.acquire(timeout=LOCK_BOUND_S)
    except Timeout:
        pytest.fail(f"could not have {CLUSTER_LOCK} within {LOCK_BOUND_S // 60} min: another run holds the "
                    "machine's loop devices; retry when it is done", pytrace=False)
    run_dir = RUN_ROOT / f"toolbox-{RUN}"
    try:
        write_marker(run_dir, run_dir.name)
        cluster = LocalCluster(run_dir / "cluster")
        try:
            cluster.bring_up(LocalSpec(nodes=3), progress=lambda m: print(f"[local ceph] {m}"))
            gate = run_gate(cluster.client(), timeout=180)
            assert gate.ok, gate.message()
            yield cluster
        finally:
            cluster.tear_down(progress=print)
            sweep_run_dir(run_dir)
    finally:
        lock.release()


@pytest.fixture(scope="module")
def kube(kube_api, testbed, bed_nodes):
    if testbed.network() is not None:
        # The bed with nodes is sealed in a network namespace of its own (testbed/network.py): its
        # hostNetwork pods are in that namespace, where this host's 127.0.0.1 (the local cluster's mons)
        # is not. Rook's own toolbox, against Ceph in the bed, replaces this stand-in (issue 26).
        pytest.skip("the toolbox stand-in needs a hostNetwork pod on this host's loopback; the test bed's "
                    "nodes are in a network namespace of their own (the seal of issue 26)")
    return Kube(kube_api, discovery_cache=str(testbed.dir / "rook-layer-discovery.json"))


@pytest.fixture(scope="module")
def ceph_image(testbed, bed_nodes):
    archive = ensure_image(progress=lambda m: print(f"[testbed] {m}"), image=CEPH_IMAGE)
    testbed.import_image(archive)
    return CEPH_IMAGE


def _secret_doc(namespace, cluster):
    """The cluster's ceph.conf and admin keyring as a Secret (stringData: in the API request's body)."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ceph-admin", "namespace": namespace},
            "type": "Opaque", "stringData": {"ceph.conf": cluster.conf.read_text(),
                                              "keyring": cluster.keyring("client.admin").read_text()}}


def _toolbox_doc(namespace, name, image, node, cluster):
    """hostNetwork (the mons are on 127.0.0.1); ceph.conf at /etc/ceph and the keyring at the path the
    conf names for it; the conf's log and run directories are the pod's own."""
    run_dir = str(cluster.run_dir)
    mounts = [{"name": "admin", "mountPath": "/etc/ceph/ceph.conf", "subPath": "ceph.conf", "readOnly": True},
              {"name": "admin", "mountPath": f"{run_dir}/keyring/client.admin.keyring", "subPath": "keyring",
               "readOnly": True},
              {"name": "log", "mountPath": f"{run_dir}/log"}, {"name": "run", "mountPath": f"{run_dir}/run"}]
    labels = {"app": name, "ceph-conformance/run": RUN}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace,
                                                                        "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"hostNetwork": True, "nodeName": node, "terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "toolbox", "image": image,
                                                           "imagePullPolicy": "Never",
                                                           "command": ["/bin/sleep", "infinity"],
                                                           "volumeMounts": mounts}],
                                           "volumes": [{"name": "admin", "secret": {"secretName": "ceph-admin",
                                                                                    "defaultMode": 0o400}},
                                                       {"name": "log", "emptyDir": {}},
                                                       {"name": "run", "emptyDir": {}}]}}}}


@pytest.fixture(scope="module")
def toolbox(kube, ceph_image, bed_nodes, local_ceph):
    """(layer, ToolboxCephTools) for a ready toolbox pod in a namespace of the run's; removed after."""
    s = RookSettings(RUN, nodes={bed_nodes[0]: ["/dev/loop20"]}, namespace=f"cconf-toolbox-{RUN}".lower())
    key = local_ceph.keyring("client.admin").read_text().split("key = ")[1].split()[0]
    secrets.register(key)  # before anything can print it
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": s.namespace,
                                                                     "labels": {"ceph-conformance/run": RUN}}})
    layer = RookLayer(kube, None, s, deploy_rook=False, timeout=120, progress=lambda m: None, interval=0.5)
    try:
        wait_for(lambda: (kube.get("v1", "ServiceAccount", "default", s.namespace) is not None, "none yet"),
                 what="the default ServiceAccount", timeout=60, interval=0.5)
        kube.apply(_secret_doc(s.namespace, local_ceph))
        kube.apply(_toolbox_doc(s.namespace, s.toolbox, ceph_image, bed_nodes[0], local_ceph))
        layer._wait_tools([])  # the layer's own wait for its toolbox Deployment
        yield layer, ToolboxCephTools(kube, s.namespace, layer.toolbox_pod), key
    finally:
        kube.delete("v1", "Namespace", s.namespace)
        wait_for(lambda: (kube.get("v1", "Namespace", s.namespace) is None, "still Terminating"),
                 what=f"namespace {s.namespace} to be deleted", timeout=120, interval=0.5)


def test_the_gate_passes_through_the_toolbox(toolbox, local_ceph):
    _, tools, _ = toolbox
    started = time.monotonic()
    gate = run_gate(CephClient(tools), timeout=120)
    assert gate.ok, gate.message()
    assert time.monotonic() - started < 120
    fsid = local_ceph.conf.read_text().split("fsid = ")[1].split()[0]
    status = CephClient(tools).ceph_json("status")
    assert status["fsid"] == fsid and status["health"]["status"] == "HEALTH_OK", status["health"]
    assert status["osdmap"]["num_up_osds"] == 3, status["osdmap"]


def test_ceph_and_rados_through_the_toolbox_round_trip_bytes(toolbox):
    _, tools, _ = toolbox
    client = CephClient(tools)
    pool = f"cconf-tb-{RUN[-4:]}"
    client.ceph("osd", "pool", "create", pool, "8")
    try:
        data = os.urandom(2 * 1024 * 1024 + 3)
        client.tool_bytes("rados", "-p", pool, "put", "blob", "-", input=data)
        assert client.tool_bytes("rados", "-p", pool, "get", "blob", "-") == data
        assert "blob" in client.tool("rados", "-p", pool, "ls").split()
    finally:
        client.ceph("osd", "pool", "rm", pool, pool, "--yes-i-really-really-mean-it")
    assert pool not in client.ceph("osd", "pool", "ls").split()


def test_a_failing_ceph_call_is_reported_by_the_toolbox(toolbox):
    _, tools, _ = toolbox
    result = tools.run("ceph", ["osd", "pool", "get", "no-such-pool", "size"], timeout=60)
    assert result.returncode != 0 and b"no-such-pool" in result.stderr, result


def test_the_admin_key_is_in_no_argv_log_or_collected_file(toolbox, kube, tmp_path):
    layer, tools, key = toolbox
    ns = layer.s.namespace
    pod = layer.toolbox_pod()
    # The pod's spec names the Secret, not its content.
    assert key not in str(kube.get("v1", "Pod", pod, ns))
    # No process of this host (kubelet, containerd, runc, the pod's) has it on its command line.
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            assert key.encode() not in cmdline, f"pid {proc.name} has the admin key in its argv"
    # What the layer collects (Ceph's state through the toolbox, pods, logs, events) holds it masked at most.
    logs.collect(kube, tools, [ns], tmp_path, progress=lambda m: None)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert (tmp_path / "ceph" / "status.txt").read_text().strip(), "ceph status through the toolbox"
    for path in written:
        assert key not in path.read_text(), f"{path} holds the admin key"
    # The container's log too.
    assert key not in kube.pod_log(ns, pod)
