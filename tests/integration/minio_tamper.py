"""Loaded into a suite run by a project test (-p): right before the check that restarts MinIO on
the other CephFS client, truncate the multipart object's last part file through that other client
(a real write through a real ceph-fuse mount, behind MinIO's back). The restart check must then
fail, naming the object; the checks before it have passed on the intact files."""

import pytest

CHECK = "test_minio_restarted_on_the_other_client_serves_every_object"
KEY = "multipart.bin"
CUT = 4096  # bytes taken off the end of the last part file


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if item.name == CHECK:
        from ceph_conformance.clients.minio_files import part_files
        from suites.test_apps_minio import DATA_DIR, _files_of, _written

        m = item.funcargs["minio"]
        _written(m)
        last = part_files(_files_of(m.b, m, KEY))[-1]
        path = f"{DATA_DIR}/{m.bucket}/{KEY}/{last}"
        stored = m.b.read(path)
        m.b.write(path, stored[:-CUT])
        print(f"[minio tamper] {path}: {len(stored)} -> {len(stored) - CUT} bytes through {m.b.name}")
    return (yield)
