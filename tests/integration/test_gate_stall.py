"""The gate tells a stuck cluster from a converging one: it gives up on a cluster that does not
move (a daemon down and not coming back) after the stall window, and waits, past that window, for
a cluster whose recovery is under way."""

import time

from ceph_conformance.gate import run_gate
from ceph_conformance.waits import wait_for

from .harness import run_suite, until_health_says

STALL_WINDOW = 15
GATE_BOUND = 240



def _throttle(ceph, osd, sleep, active):
    """Set an OSD's recovery throttle, once it answers commands (a booting OSD says ENXIO)."""
    def probe():
        ceph.ceph("tell", osd, "config", "set", "osd_recovery_sleep_hdd", sleep, timeout=20)
        ceph.ceph("tell", osd, "config", "set", "osd_recovery_max_active_hdd", active, timeout=20)
        return True, "set"

    wait_for(probe, what=f"{osd} to take its recovery throttle", timeout=90, interval=1)


def test_with_the_mds_gone_the_gate_gives_up_after_the_stall_window(live_cluster, existing, tmp_path):
    """What used to wait out the whole 300 s gate: the sharedfs checks against an existing cluster
    whose only MDS is stopped. They fail once nothing has changed for the stall window."""
    live_cluster.stop_daemon("mds.a")
    until_health_says(live_cluster, "MDS_ALL_DOWN")
    t0 = time.monotonic()
    run = run_suite(tmp_path, "-m", "sharedfs", f"--gate-timeout={GATE_BOUND}",
                    f"--gate-stall-window={STALL_WINDOW}", *existing)
    elapsed = time.monotonic() - t0
    gate = run.results["gate_start"]
    assert not gate["ok"] and gate["stalled"], (gate, run)
    assert STALL_WINDOW <= gate["waited_s"] < STALL_WINDOW + 20, gate
    assert elapsed < GATE_BOUND / 2, f"the run took {elapsed:.0f}s against a stuck cluster"
    checks = run.checks("sharedfs")
    assert checks, run
    for check in checks:
        assert check["outcome"] == "failed", check
        first = check["message"].splitlines()[0]
        assert f"(bound {GATE_BOUND}s): gave up early, the cluster is stuck (nothing changed for" in first, first
        assert "MDS_ALL_DOWN" in check["message"], check["message"]


def test_a_recovering_cluster_is_waited_for_past_the_stall_window(live_cluster, existing):
    """An OSD comes back to PGs that missed writes while it was away; recovery, slowed on purpose,
    takes longer than the stall window but moves on every probe: the gate waits it out and passes."""
    ceph = live_cluster.client()
    pool = "stall-recovery"
    window = 6
    ceph.ceph("osd", "pool", "create", pool, "8", "8")
    ceph.ceph("osd", "pool", "application", "enable", pool, "rados")
    ceph.ceph("osd", "set", "noout")  # the OSD stays in: its PGs wait for it instead of moving away
    try:
        live_cluster.stop_daemon("osd.1")
        until_health_says(live_cluster, "OSD_DOWN")
        # Objects written while osd.1 is away are degraded on its PGs: what it must recover.
        ceph.tool("rados", "bench", "-p", pool, "4", "write", "-b", "4096", "-t", "4", "--no-cleanup",
                  timeout=120)
        # Recovery throttled at runtime (`tell` overrides the run's ceph.conf): some seconds long.
        for osd in ("osd.0", "osd.2", "osd.3"):
            _throttle(ceph, osd, sleep="0.05", active="1")
        live_cluster.start_daemon("osd.1")
        _throttle(ceph, "osd.1", sleep="0.05", active="1")  # answers once it has booted
        ceph.ceph("osd", "unset", "noout")
        t0 = time.monotonic()
        gate = run_gate(ceph, timeout=GATE_BOUND, interval=1, stall_window=window)
        took = time.monotonic() - t0
    finally:
        ceph.ceph("osd", "unset", "noout")
        live_cluster.start_daemon("osd.1")
        for osd in ("osd.0", "osd.1", "osd.2", "osd.3"):
            _throttle(ceph, osd, sleep="0", active="3")
        ceph.ceph("osd", "pool", "rm", pool, pool, "--yes-i-really-really-mean-it")
    assert gate.ok, gate.message()
    assert took > 2 * window, f"recovery took {took:.0f}s, no longer than the stall window: this proved nothing"
