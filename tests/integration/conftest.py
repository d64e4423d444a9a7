"""A live local cluster owned by the project's tests, which they break on purpose and repair."""

import os
import time

import pytest

from ceph_conformance.gate import run_gate
from ceph_conformance.host.processes import become_subreaper
from ceph_conformance.host.sweep import sweep_run_dir, write_marker
from ceph_conformance.run import new_run_id
from ceph_conformance.targets.local.cluster import LocalCluster, LocalSpec

from .harness import RUN_ROOT, leftovers, reap_children

if os.geteuid() != 0:
    pytest.skip("the integration tests start real Ceph daemons on loop devices: run them as root",
                allow_module_level=True)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    """After all integration tests: nothing of any run remains (processes, mounts, loops, dirs)."""
    become_subreaper()  # orphaned daemons of a killed suite run come back to us, to be reaped
    before = leftovers()
    assert before == [], f"leftovers of an earlier run before the tests: {before}"
    yield
    reap_children()
    left = leftovers()
    assert left == [], f"the runs left these behind: {left}"
    if os.environ.get("PYTEST_XDIST_WORKER") and RUN_ROOT.is_dir():
        RUN_ROOT.rmdir()  # the worker's own root, empty now


@pytest.fixture(scope="session")
def live_cluster(nothing_left_behind):
    run_dir = RUN_ROOT / f"live-{new_run_id()}"
    write_marker(run_dir, run_dir.name)
    cluster = LocalCluster(run_dir / "cluster")
    try:
        t0 = time.monotonic()
        cluster.bring_up(LocalSpec(), progress=lambda m: print(f"[live cluster] {m}"))
        gate = run_gate(cluster.client(), timeout=180)
        assert gate.ok, gate.message()
        print(f"[live cluster] HEALTH_OK after {time.monotonic() - t0:.1f}s")
        yield cluster
    finally:
        cluster.tear_down(progress=print)
        sweep_run_dir(run_dir)


def heal(cluster, timeout=240):
    """Start whatever daemon a test stopped and wait for HEALTH_OK again."""
    for name in cluster.state["daemons"]:
        if not cluster.daemon_alive(name):
            cluster.start_daemon(name)
    if "client.rgw.a" in cluster.state["daemons"]:
        cluster.wait_rgw(timeout=60)
    gate = run_gate(cluster.client(), timeout=timeout)
    assert gate.ok, "could not heal the live cluster: " + gate.message()


@pytest.fixture
def existing(live_cluster, tmp_path):
    """Arguments that point the suite at the live cluster as an existing cluster (--target ceph)."""
    args = ["--target", "ceph", "--ceph-conf", str(live_cluster.conf),
            "--ceph-keyring", str(live_cluster.keyring("client.admin")), "--rgw-endpoint", live_cluster.rgw_endpoint]
    yield args
    heal(live_cluster)
