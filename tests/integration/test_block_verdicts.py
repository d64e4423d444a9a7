"""The block checks can fail: storage that returns other data than the database wrote makes the
check that re-reads through a fresh client path fail, naming the rows that differ.

The throughput check's comparison cannot be provoked here: its write, fsync and read follow each
other inside one check body, with no moment between them for a test to change the image. Its
comparison is tested on real files in tests/unit/test_block_io.py.
"""

from .harness import break_during
from .stale_pages import write_stale_rows


def test_clean_restart_fails_when_the_volume_returns_other_rows(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()
    broken = {}

    def break_it(run_dir):
        broken["spec"] = write_stale_rows(ceph, run_dir, tmp_path)

    run = break_during(tmp_path, "test_clean_restart_keeps_every_row", break_it, lambda _run_dir: None,
                       "-m", "block", "-k", "round_trip or clean_restart", *existing)
    assert run.check("test_database_round_trip_spans_many_rados_objects")["outcome"] == "passed", run
    check = run.check("test_clean_restart_keeps_every_row")
    assert check["outcome"] == "failed", (check, run)
    message = check["message"]
    assert f"the rows read back from {broken['spec']} differ from the 40000 written" in message, message
    assert "8 rows changed (ids 0, 1, 2, 3, 4, ...)" in message, message
