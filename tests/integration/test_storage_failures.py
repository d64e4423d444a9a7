"""Block and shared-filesystem checks fail when storage fails, within their bound, naming the cause.

Each test breaks the live cluster right before one check runs and heals it right after, so the
verdict is that check's own: not the gate's, and not a hang.
"""

import hashlib
import os
import re
import threading
import time

from .client_views import Overmount, client_mounts, only
from .harness import break_during, until_health_says

IO_BOUND = 25



def _failed_check(run, name):
    __tracebackhide__ = True
    check = run.check(name)
    assert check["outcome"] == "failed", (check, run)
    return check["message"]


def test_sharedfs_check_fails_naming_the_stopped_mds(live_cluster, existing, tmp_path):
    def break_it(_run_dir):
        live_cluster.stop_daemon("mds.a")
        until_health_says(live_cluster, "MDS_ALL_DOWN")

    def heal(_run_dir):
        live_cluster.start_daemon("mds.a")

    run = break_during(tmp_path, "test_metadata_changes_are_seen_by_the_other_client", break_it, heal,
                       "-m", "sharedfs", "-k", "metadata_changes or nginx", f"--io-timeout={IO_BOUND}", *existing)
    message = _failed_check(run, "test_metadata_changes_are_seen_by_the_other_client")
    assert f"did not complete within {IO_BOUND}s" in message and "MDS_ALL_DOWN" in message, message
    assert run.check_seconds < IO_BOUND + 15, run.check_seconds
    assert run.check("test_nginx_serves_files_the_other_client_wrote")["outcome"] == "passed", run


def test_block_check_fails_naming_the_full_pool(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()

    def break_it(_run_dir):
        ceph.ceph("osd", "pool", "set-quota", "rbd", "max_bytes", str(1024 * 1024))
        until_health_says(live_cluster, "POOL_FULL")

    def heal(_run_dir):
        ceph.ceph("osd", "pool", "set-quota", "rbd", "max_bytes", "0")

    run = break_during(tmp_path, "test_sequential_throughput_through_the_mounted_volume", break_it, heal,
                       "-m", "block", "-k", "provisioned or sequential", f"--io-timeout={IO_BOUND}", *existing)
    message = _failed_check(run, "test_sequential_throughput_through_the_mounted_volume")
    assert "POOL_FULL" in message and "rbd" in message, message
    assert run.check_seconds < IO_BOUND + 15, run.check_seconds  # refused or blocked: never a hang
    assert run.check("test_volume_is_provisioned_with_the_requested_size")["outcome"] == "passed", run


def test_block_check_fails_within_its_bound_when_io_blocks(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()

    def break_it(_run_dir):
        # min_size 3 on size 3: a PG that loses one replica stops serving I/O, which then waits.
        # noout: otherwise Ceph re-replicates after mon_osd_down_out_interval and I/O resumes.
        ceph.ceph("osd", "set", "noout")
        ceph.ceph("osd", "pool", "set", "rbd", "min_size", "3")
        live_cluster.stop_daemon("osd.1")
        until_health_says(live_cluster, "OSD_DOWN")

    def heal(_run_dir):
        ceph.ceph("osd", "pool", "set", "rbd", "min_size", "2")
        ceph.ceph("osd", "unset", "noout")
        live_cluster.start_daemon("osd.1")

    run = break_during(tmp_path, "test_sequential_throughput_through_the_mounted_volume", break_it, heal,
                       "-m", "block", "-k", "provisioned or sequential", f"--io-timeout={IO_BOUND}", *existing)
    message = _failed_check(run, "test_sequential_throughput_through_the_mounted_volume")
    assert f"did not complete within {IO_BOUND}s" in message, message
    # Ceph's own PG_AVAILABILITY code comes and goes while PGs re-peer; the diagnosis always
    # names the PGs that are not active, and the down OSD.
    assert "PGs not active (their I/O waits):" in message and "osd.1" in message, message
    assert run.check_seconds < IO_BOUND + 15, run.check_seconds


ATOMIC = "test_atomic_publish_is_never_seen_partially"


def test_atomic_publish_check_fails_when_the_other_client_sees_a_file_before_it_is_whole(
        live_cluster, existing, tmp_path):
    """Client B's view of the check's directory is replaced by one where the file is rewritten in
    place, half of it at a time, as a filesystem without atomic rename would show it: B's reads catch
    it half written, and the check says how many."""
    view, stop = Overmount(), threading.Event()
    fake = tmp_path / "in-place"
    fake.mkdir()

    def rewrite_in_place():
        while not stop.is_set():
            body = os.urandom(256 * 1024)
            with open(fake / "published", "wb") as f:
                f.write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body[:128 * 1024])
                f.flush()
                time.sleep(0.05)
                f.write(body[128 * 1024:])
            time.sleep(0.01)

    writer = threading.Thread(target=rewrite_in_place, daemon=True)

    def break_it(run_dir):
        _, b = client_mounts(run_dir)
        writer.start()
        view.bind(fake, only(b.glob(f"*/{ATOMIC}"), f"directory of {ATOMIC} on client B"))

    def heal(_run_dir):
        view.heal()
        stop.set()
        if writer.is_alive():
            writer.join(10)

    try:
        run = break_during(tmp_path, ATOMIC, break_it, heal, "-m", "sharedfs", "-k", "atomic", *existing)
    finally:
        heal(None)
    message = _failed_check(run, ATOMIC)
    assert re.search(r"client B saw [1-9]\d* partial files out of \d+ reads of a file renamed into place \d+ "
                     r"times", message), message
