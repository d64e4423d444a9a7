"""The app checks fail when what the app keeps on Ceph is not what it stored, naming what differs.

Ghost's uploaded image is changed on one of the run's CephFS mounts behind Ghost's back, right
before the check that reads it through the other client; it is put back right after, so the checks
after it (Ghost restarted on the other client) pass on the same data.
"""

import os
from pathlib import Path

from .harness import GHOST_MODULE, break_during

CHECK = "test_ghost_image_reads_identically_through_the_other_cephfs_client"


def _ghost_image(run_dir):
    # <run>/clients/<scope>/mnt/client.<id>/<module dir>/ghost/images/YYYY/MM/<name>.png: the same
    # file through each of the two mounts; one is enough.
    found = sorted(Path(run_dir).glob("clients/*/mnt/client.*/*/ghost/images/*/*/*.png"))
    assert found, f"no image of Ghost under {run_dir}/clients: the fixtures did not publish one"
    return found[0]


def _write(path, data):
    with open(path, "r+b") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def test_ghost_image_changed_on_cephfs_fails_the_check_reading_it_through_the_other_client(
        live_cluster, existing, tmp_path):
    kept = {}

    def break_it(run_dir):
        path = _ghost_image(run_dir)
        kept["path"], kept["data"] = path, path.read_bytes()
        changed = bytearray(kept["data"])
        changed[len(changed) // 2] ^= 0xFF  # one byte in the image's pixel data
        _write(path, bytes(changed))

    def heal(_run_dir):
        if kept:
            _write(kept["path"], kept["data"])

    run = break_during(tmp_path, CHECK, break_it, heal, GHOST_MODULE, "-m", "sharedfs and block", "-k", "ghost",
                       *existing)
    check = run.check(CHECK)
    assert check["outcome"] == "failed", (check, run)
    size = len(kept["data"])
    assert "reads differently through client" in check["message"], check["message"]
    assert f"1 of {size} bytes differ, the first at offset {size // 2}" in check["message"], check["message"]
    others = [c for c in run.results["checks"] if CHECK not in c["nodeid"]]
    assert len(others) == 3 and all(c["outcome"] == "passed" for c in others), (others, run)
