"""The disruptive checks fail when they should, with a message that says what was lost or what
recovery was still doing, within their bounds. Each test breaks the suite's own local cluster
right before one disruptive check runs."""

import re

from ceph_conformance.ceph_client import CephClient
from ceph_conformance.targets.host_clients.tools import HostCephTools
from ceph_conformance.waits import wait_for

from .harness import break_during

RECOVERY_BOUND = 40


def _ceph(run_dir):
    cluster = run_dir / "cluster"
    return CephClient(HostCephTools(cluster / "ceph.conf", cluster / "keyring" / "client.admin.keyring"))


def _ledger_pool(ceph):
    pools = [p for p in ceph.ceph_json("osd", "pool", "ls") if "-ledger-" in p]
    assert len(pools) == 1, pools
    return pools[0]


def test_host_loss_names_the_objects_a_pool_without_replicas_lost(tmp_path):
    def break_it(run_dir):
        # Size 1: each object of the ledger's RADOS pool lives on one OSD only; those on the
        # failed host are lost with it.
        ceph = _ceph(run_dir)
        ceph.ceph("config", "set", "mon", "mon_allow_pool_size_one", "true")
        pool = _ledger_pool(ceph)
        ceph.ceph("osd", "pool", "set", pool, "size", "1", "--yes-i-really-mean-it")
        pool_id = next(p["pool_id"] for p in ceph.ceph_json("osd", "pool", "ls", "detail") if p["pool_name"] == pool)

        def one_copy_each():
            stats = ceph.ceph_json("pg", "dump", "pgs_brief")["pg_stats"]
            mine = [p for p in stats if p["pgid"].startswith(f"{pool_id}.")]
            return all(len(p["acting"]) == 1 and p["state"] == "active+clean" for p in mine), mine

        # Settled, so that ok-to-stop judges the pool as it now is.
        wait_for(one_copy_each, what=f"pool {pool} at one copy per PG", timeout=60)

    run = break_during(tmp_path, "test_failed_host_is_marked_down_and_out", break_it, lambda run_dir: None,
                       "-m", "removal", f"--recovery-timeout={RECOVERY_BOUND}", "--gate-timeout=20",
                       "--io-timeout=90")
    failure = run.check("test_failed_host_is_marked_down_and_out_and_data_recovers")
    assert failure["outcome"] == "failed", run
    message = failure["message"]
    # Ceph was asked first, and said no; the suite reports it.
    assert re.search(r"ceph osd ok-to-stop [\d ]+: no, \d+ PGs would become inactive", message), message
    # Recovery cannot finish: the PGs whose only copy died are stale, or down once they re-peer,
    # and the message says so.
    assert re.search(rf"not reached within \d+s \(bound {RECOVERY_BOUND}s\); recovery state: "
                     r"\d+ of \d+ PGs not active\+clean \(\d+ (down|stale\+active\+clean)\)", message), message
    # The lost objects are named, each with its PG.
    assert re.search(r"rados objects in pool cconf-\S+-ledger-\d+: \d+ of 48 unreadable: obj-\d{3} "
                     r"\(\(110\) Connection timed out; PG \d+\.\d+ (down|stale\+active\+clean) on \[\d\]\)",
                     message), message
    assert "S3 objects:" not in message and "database rows:" not in message, message  # size 3: kept
    # The purge does not run on a cluster the gate found unhealthy; the run fails.
    after = run.check("test_removed_host_is_purged_and_capacity_drops_by_its_share")
    assert after["outcome"] == "failed" and after["message"].startswith("not run: the HEALTH_OK gate after"), after
    assert run.returncode == 1, run
    step = run.results["disruptive_steps"][0]
    assert step["ledger_ok"] is False and "unreadable" in step["ledger"], step


def test_scale_out_fails_at_its_bound_when_recovery_stands_still(tmp_path):
    flags = ("nobackfill", "norecover", "norebalance")

    def break_it(run_dir):
        for flag in flags:
            _ceph(run_dir).ceph("osd", "set", flag)

    def heal(run_dir):
        for flag in flags:
            _ceph(run_dir).ceph("osd", "unset", flag)

    run = break_during(tmp_path, "test_new_host_and_extra_osd_join_and_take_data", break_it, heal,
                       "-m", "scale", "-k", "new_host", f"--recovery-timeout={RECOVERY_BOUND}", "--gate-timeout=60")
    failure = run.check("test_new_host_and_extra_osd_join_and_take_data")
    assert failure["outcome"] == "failed", run
    message = failure["message"]
    assert re.search(rf"data moving onto the new OSDs: not reached within \d+s \(bound {RECOVERY_BOUND}s\)", message), \
        message
    assert "backfill" in message and "objects misplaced" in message, message
    assert "OSD flags set:" in message and "nobackfill" in message, message
    # Nothing was lost: the data is where it was, only not moved.
    assert "ledger: intact" in message, message
    # Bounded: the recovery bound, a ledger read and the OSDs' creation; never a hang.
    assert failure["duration_s"] < RECOVERY_BOUND + 120, failure
