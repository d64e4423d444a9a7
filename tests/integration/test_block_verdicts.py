"""The block checks can fail: storage that returns other data than the database wrote makes the
check that re-reads through a fresh client path fail, naming the rows that differ; storage that
acknowledges flushes it never wrote makes the crash check fail.

The throughput check's comparison cannot be provoked here: its write, fsync and read follow each
other inside one check body, with no moment between them for a test to change the image. Its
comparison is tested on real files in tests/unit/test_block_io.py.
"""

import re

import pytest

from .harness import break_during, run_suite
from .stale_pages import write_stale_rows


@pytest.mark.parametrize(("check", "selection", "what"), [
    # The buffer pool still holds the loaded rows: only the re-read through a new client sees the change.
    ("test_database_round_trip_spans_many_rados_objects", "round_trip",
     "after loading and reading back through a new storage client"),
    ("test_clean_restart_keeps_every_row", "clean_restart", "after a clean restart with the storage client restarted"),
])
def test_check_fails_when_the_volume_returns_other_rows(live_cluster, existing, tmp_path, check, selection, what):
    ceph = live_cluster.client()
    broken = {}

    def break_it(run_dir):
        broken["spec"] = write_stale_rows(ceph, run_dir, tmp_path)

    run = break_during(tmp_path, check, break_it, lambda _run_dir: None, "-m", "block", "-k", selection, *existing)
    result = run.check(check)
    assert result["outcome"] == "failed", (result, run)
    message = result["message"]
    assert f"{what}, the rows read back from {broken['spec']} differ from the 40000 written" in message, message
    assert "8 rows changed (ids 0, 1, 2, 3, 4, ...)" in message, message


def test_crash_check_fails_when_the_storage_acknowledges_flushes_it_never_wrote(live_cluster, existing, tmp_path):
    """The volume is attached through a write-back cache that answers every flush at once and writes
    blocks back seconds later (lying_cache.py). A crash takes the cache down with the database and
    rbd-fuse, so transactions whose commit returned are gone: the check must fail saying so."""
    run = run_suite(tmp_path, "-m", "block", "-k", "crash", "-p", "tests.integration.lying_cache", *existing,
                    timeout=900)
    result = run.check("test_crash_keeps_every_committed_transaction")
    assert result["outcome"] == "failed", (result, run)
    message = result["message"]
    lost = re.search(r"(\d+) of (\d+) committed transactions lost in the crash", message)
    assert lost or "did not start again" in message, message
    assert run.results["teardown_error"] is None, run
