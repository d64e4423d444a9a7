"""The test bed's own life: the documented commands bring it up and down, leaving nothing; a start
that fails or hangs says why within its bound and leaves nothing either. Each test has its own bed."""

import os
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request

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
    d = ROOT / f"lifecycle-{os.getpid()}-{request.node.name[:40].replace('[', '-').strip(']')}"
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
