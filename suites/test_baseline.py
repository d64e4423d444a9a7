"""Baseline: raw RADOS throughput, measured in the same run as block, CephFS and S3 throughput,
so the report can say what each interface delivers of what the cluster itself can do."""

import json

import pytest

from ceph_conformance.errors import Unsupported

pytestmark = pytest.mark.baseline


@pytest.mark.measures
def test_rados_bench_baseline(ceph, target, namer, record_metric):
    """rados bench write and sequential read: the baseline the other figures are shown against."""
    try:
        pool = target.rbd_pool()
    except Unsupported as exc:
        pytest.skip(str(exc))
    run_name = namer("bench")
    try:
        write = _bench(ceph, "-p", pool, "5", "write", "-b", "4194304", "-t", "8", "--no-cleanup",
                       "--run-name", run_name)
        read = _bench(ceph, "-p", pool, "5", "seq", "-t", "8", "--run-name", run_name)
    finally:
        ceph.tool("rados", "-p", pool, "cleanup", "--run-name", run_name, timeout=120)
    # rados bench reports MiB/s as "bandwidth"; the report uses MB/s throughout.
    record_metric("rados_bench_write", float(write["bandwidth"]) * 1.048576, "MB/s")
    record_metric("rados_bench_seq_read", float(read["bandwidth"]) * 1.048576, "MB/s")
    assert float(write["total_writes_made"]) > 0 and float(read["total_reads_made"]) > 0, (write, read)


def _bench(ceph, *args):
    out = ceph.tool("rados", "bench", *args, "--format", "json", timeout=120)
    # A "hints = 1" line comes before the JSON.
    return json.loads(out[out.index("{"):])
