"""Records shared by a run's processes: concurrent writers never collide, readers never see half."""

import multiprocessing
import time

from ceph_conformance.records import read_record, write_record


def _hammer(path, tag, seconds, errors):
    deadline = time.monotonic() + seconds
    n = 0
    try:
        while time.monotonic() < deadline:
            write_record(path, {"writer": tag, "n": n, "pad": "x" * 4096})
            record = read_record(path)
            assert record is not None and len(record["pad"]) == 4096, record
            n += 1
    except Exception as exc:  # noqa: BLE001 - handed to the test
        errors.put(f"{tag}: {type(exc).__name__}: {exc}")


def test_concurrent_writers_and_readers_of_one_record(tmp_path):
    path = tmp_path / "plan.json"
    errors = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_hammer, args=(path, i, 1.5, errors)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == [] and all(p.exitcode == 0 for p in procs), found
    assert read_record(path)["writer"] in range(4)
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"], "temporary files were left"
