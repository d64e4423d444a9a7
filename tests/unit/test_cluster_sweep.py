"""The existing-cluster sweep: which runs are dead, and a failed removal is never "swept"."""

import os
import time

from ceph_conformance import cluster_runs
from ceph_conformance.ceph_client import CephClient
from ceph_conformance.cleanup import Kind, sweep_cluster
from ceph_conformance.host.sweep import write_marker
from ceph_conformance.targets.existing_sweep import cluster_kinds
from ceph_conformance.targets.host_clients.tools import HostCephTools


def _run_id(seconds_ago):
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() - seconds_ago)) + "-beef"


def test_run_ids_are_read_only_from_the_suites_prefix():
    rid = _run_id(0)
    assert cluster_runs.run_id_of(f"cconf-{rid}-gw0-s3-1") == rid
    assert cluster_runs.run_id_of(f"client.cconf-{rid}-main-fs-2") == rid
    assert cluster_runs.run_id_of(f"cconf-{rid}") is None  # no resource of a run is named that bare
    assert cluster_runs.run_id_of(f"x-cconf-{rid}-gw0") is None
    assert cluster_runs.run_id_of("cconf-notarun-gw0-s3-1") is None


def test_a_run_is_dead_only_when_that_is_proven(tmp_path):
    write_marker(tmp_path, "r")
    me = cluster_runs.owner_of(tmp_path)
    assert me["pid"] == os.getpid()
    now = time.time()
    fresh = {**me, "heartbeat": now}
    assert cluster_runs.dead_reason(_run_id(7200), fresh) is None
    assert "heartbeat" in cluster_runs.dead_reason(_run_id(7200), {**me, "heartbeat": now - 3600})
    gone = {**me, "pid": 999999999, "heartbeat": now}
    assert "pid 999999999" in cluster_runs.dead_reason(_run_id(60), gone)
    elsewhere = {**gone, "host": "another-host"}  # a pid of another host says nothing here
    assert cluster_runs.dead_reason(_run_id(60), elsewhere) is None
    assert cluster_runs.dead_reason(_run_id(60), None) is None  # may still be connecting
    assert "no record" in cluster_runs.dead_reason(_run_id(7200), None)


def test_a_user_that_could_not_be_removed_is_a_failure_not_swept(tmp_path):
    # A real radosgw-admin that fails (its cluster's conf is gone): the removal must count as failed.
    broken = CephClient(HostCephTools(tmp_path / "gone" / "ceph.conf"), timeout=20)
    uid = f"cconf-{_run_id(60)}-gw0-s3-1"
    remove_s3_user = cluster_kinds(broken, "rbd", tmp_path)[0].remove
    lines = []
    report = sweep_cluster(broken, [Kind("S3 user", lambda: [uid], remove_s3_user)], lines.append,
                           own_run_id=cluster_runs.run_id_of(uid))
    assert report.removed == [] and len(report.failed) == 1 and uid in report.failed[0], report
    assert not [line for line in lines if line.startswith("swept")], lines


def test_a_dry_run_removes_nothing_and_lists_what_would_go(tmp_path):
    broken = CephClient(HostCephTools(tmp_path / "gone" / "ceph.conf"), timeout=20)
    rid = _run_id(60)
    removed = []
    kind = Kind("RBD image", lambda: [f"cconf-{rid}-gw0-vol-1", "not-ours"], removed.append)
    report = sweep_cluster(broken, [kind], lambda m: None, own_run_id=rid, dry_run=True)
    assert removed == [] and report.planned == [f"RBD image cconf-{rid}-gw0-vol-1"], report
