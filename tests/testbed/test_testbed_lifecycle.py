"""The test bed's own life: the documented commands bring it up and down, leaving nothing; a start
that fails or hangs says why within its bound and leaves nothing either. Each test has its own bed."""

import os
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from kubernetes import client

from ceph_conformance.errors import SetupError
from ceph_conformance.host import processes
from ceph_conformance.testbed import bed as bed_module
from ceph_conformance.testbed import build, control_plane
from ceph_conformance.testbed.apply import api_client
from ceph_conformance.testbed.bed import TestBed

from .conftest import ROOT, SKIP_ENV

pytestmark = pytest.mark.skipif(os.environ.get(SKIP_ENV) == "1", reason=f"{SKIP_ENV}=1: no test bed")


@pytest.fixture
def bed_dir(request):
    d = ROOT / f"lc-{os.getpid()}-{abs(hash(request.node.name)) % 10**6}"  # short: containerd's socket paths
    yield d
    if d.exists():  # a failed test must not leave its bed running
        TestBed(d).down(progress=lambda _m: None)
    assert not d.exists() and not processes.pids_with_marker(d), f"{d} left behind"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "ceph_conformance", "testbed", *args], capture_output=True,
                          text=True, timeout=1800)


def test_documented_commands_bring_it_up_and_down_leaving_nothing(bed_dir):
    up = cli("up", "--dir", str(bed_dir))
    assert up.returncode == 0, up.stdout + up.stderr
    assert "[testbed] etcd ready on 127.0.0.1:" in up.stdout and "kube-apiserver ready on https://127.0.0.1:" \
        in up.stdout, up.stdout
    bed = TestBed(bed_dir)
    assert f"export KUBECONFIG={bed.kubeconfig}" in up.stdout
    state = bed.state()

    # Secrets are private; the directory too.
    assert stat.S_IMODE(bed_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(bed.kubeconfig.stat().st_mode) == 0o600
    keys = sorted((bed_dir / "pki").glob("*.key"))
    assert len(keys) >= 6 and all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys), keys

    # The real API answers with the version built, through the official client and the kubeconfig.
    api = api_client(bed.kubeconfig)
    assert client.VersionApi(api).get_code().git_version == build.kubernetes_version()
    assert "default" in [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
    api.close()

    # Loopback only, and nobody gets in without a client certificate of the bed's CA.
    pids = list(state["pids"].values())
    listening = [c.laddr.ip for pid in pids for c in psutil.Process(pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and set(listening) == {"127.0.0.1"}, listening
    ctx = ssl.create_default_context(cafile=str(bed_dir / "pki" / "ca.crt"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{state['server']}/api/v1/secrets", context=ctx, timeout=10)
    assert refused.value.code == 401

    status = cli("status", "--dir", str(bed_dir))
    assert status.returncode == 0 and "readyz: ready" in status.stdout, status.stdout + status.stderr
    assert "kube-apiserver: running" in status.stdout and "etcd: running" in status.stdout

    down = cli("down", "--dir", str(bed_dir))
    assert down.returncode == 0, down.stdout + down.stderr
    assert not bed_dir.exists()
    assert not any(psutil.pid_exists(p) and processes.is_alive(p, bed_dir) for p in pids)
    after = cli("status", "--dir", str(bed_dir))
    assert after.returncode == 1 and "no test bed" in after.stdout


def test_up_twice_reuses_the_running_bed(bed_dir):
    bed = TestBed(bed_dir)
    first = bed.up(progress=lambda _m: None)
    said = []
    second = bed.up(progress=said.append)
    assert second["pids"] == first["pids"] and said == [f"test bed already up in {bed_dir}"]


def test_api_server_not_ready_in_time_fails_saying_what_it_saw_and_leaves_nothing(bed_dir, monkeypatch):
    monkeypatch.setattr(bed_module, "API_READY_S", 1.5)
    with pytest.raises(SetupError) as failed:
        TestBed(bed_dir).up(progress=lambda _m: None)
    message = str(failed.value)
    assert "kube-apiserver to be ready: not reached after" in message and "last seen:" in message, message
    assert not bed_dir.exists() and not processes.pids_with_marker(bed_dir)


def test_component_that_exits_at_start_is_reported_with_its_log(bed_dir, monkeypatch):
    real = control_plane.etcd_argv
    monkeypatch.setattr(control_plane, "etcd_argv", lambda *a: [*real(*a), "--no-such-flag"])
    with pytest.raises(SetupError) as failed:
        TestBed(bed_dir).up(progress=lambda _m: None)
    message = str(failed.value)
    assert "etcd exited while starting" in message and "no-such-flag" in message, message
    assert not bed_dir.exists() and not processes.pids_with_marker(bed_dir)


def test_down_leaves_a_directory_that_is_not_a_test_bed_alone(tmp_path):
    (tmp_path / "data").write_text("someone's")
    with pytest.raises(SetupError, match="not a test bed's directory"):
        TestBed(tmp_path).down(progress=lambda _m: None)
    assert (tmp_path / "data").read_text() == "someone's"


def _host_traces(bed_dir, layouts, net=None):
    """What a bed with nodes could leave on the host: bridges, cgroups, network namespaces, mounts,
    and its network's namespace, veth, routes and guard rules."""
    from ceph_conformance.host.mounts import mounts_under
    from ceph_conformance.testbed import node

    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    traces = [f"bridge {n.bridge}" for n in layouts if f" {n.bridge}:" in links]
    if net is not None:
        routes = subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        mounts = Path("/proc/mounts").read_text()
        traces += [f"link {name}" for name in (net.veth_host, net.veth_bed, net.sink) if f" {name}" in links]
        traces += [f"route {r}" for r in routes.splitlines() if net.veth_host in r or net.bed_addr in r]
        traces += [f"iptables {r}" for r in rules.splitlines() if net.guard_comment in r]
        traces += [f"network namespace {net.path}" for _ in [1] if net.path.exists() or str(net.path) in mounts]
    traces += [f"cgroup {h}{n.cgroup_root}" for n in layouts for h in node.cgroup_hierarchies()
               if os.path.isdir(f"{h}{n.cgroup_root}")]
    return traces + [f"mount {m}" for m in mounts_under(bed_dir)]


@pytest.mark.skipif(os.geteuid() != 0, reason="a node (containerd, runc, cgroups) needs root")
def test_a_bed_with_a_node_and_unstoppable_pods_leaves_nothing(bed_dir):
    """A running pod, and a Deployment whose image is not there (its controller would recreate its pod
    forever): teardown still stops everything and removes every trace on the host."""
    from ceph_conformance.testbed.image import IMAGE
    from ceph_conformance.testbed.node import NodeLayout
    from ceph_conformance.waits import wait_for

    netns_before = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
    host_dirs_before = {d: os.path.isdir(d) for d in ("/run/containerd", "/run/netns")}
    bed = TestBed(bed_dir)
    state = bed.up(progress=lambda _m: None, nodes=1)
    layouts = [NodeLayout(n["index"], Path(n["dir"])) for n in state["nodes"]]
    net = bed.network()
    assert net is not None and net.path.exists(), "a bed with nodes has its own network namespace"
    assert _host_traces(bed_dir, layouts, net), "the check below would see the bed's network if it stayed"
    api = api_client(bed.kubeconfig)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    wait_for(lambda: (bool(core.list_namespaced_service_account("default").items), "no default account"),
             what="the default ServiceAccount", timeout=60)
    container = {"name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": ["/bin/sleep", "infinity"]}
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runs"},
                                           "spec": {"containers": [container]}})
    missing = {**container, "image": "localhost/ceph-conformance/not-built:never"}
    apps.create_namespaced_deployment("default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stuck"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "stuck"}},
                 "template": {"metadata": {"labels": {"app": "stuck"}}, "spec": {"containers": [missing]}}}})

    def both_there():
        pods = {p.metadata.name.split("-")[0]: p for p in core.list_namespaced_pod("default").items}
        running = pods.get("runs") is not None and pods["runs"].status.phase == "Running"
        return running and "stuck" in pods, f"pods: {[(n, p.status.phase) for n, p in pods.items()]}"

    wait_for(both_there, what="a running pod and a stuck one", timeout=90)
    api.close()
    pids = processes.pids_with_marker(bed_dir)  # the bed's components and containerd's shims
    shims = [p for p in pids if processes.command_name(p) == "containerd-shim-runc-v2"]
    assert shims, f"containerd's shims carry the bed's mark: {[processes.command_name(p) for p in pids]}"
    pids += [c.pid for s in shims for c in psutil.Process(s).children(recursive=True)]  # the containers

    bed.down(progress=lambda _m: None)
    assert not bed_dir.exists()
    assert not [p for p in pids + shims if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert _host_traces(bed_dir, layouts, net) == []
    netns_after = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
    assert netns_after <= netns_before, f"network namespaces left: {netns_after - netns_before}"
    assert {d: os.path.isdir(d) for d in host_dirs_before} == host_dirs_before


def test_a_bed_whose_owner_died_is_swept_and_a_kept_one_is_not(tmp_path):
    from ceph_conformance.testbed.bed import sweep_dead_beds

    root = ROOT / f"sw-{os.getpid()}"
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan, kept = TestBed(root / "orphan"), TestBed(root / "kept")
    try:
        orphan.up(progress=lambda _m: None, owner_pid=dead.pid)
        kept.up(progress=lambda _m: None, owner_pid=dead.pid, kept=True)
        orphan_pids = list(orphan.state()["pids"].values())
        said = []
        assert sweep_dead_beds(root, progress=said.append) == [orphan.dir], said
        assert not orphan.dir.exists() and not any(processes.is_alive(p, orphan.dir) for p in orphan_pids)
        assert kept.is_up(), "a kept bed (the CLI's) outlives its owner"
    finally:
        for bed in (orphan, kept):
            if bed.dir.exists():
                bed.down(progress=lambda _m: None)
        root.rmdir()
