"""The suite's verdicts against a real cluster: right on a healthy one, and the right failure, with
a message naming the cause, when the cluster is broken on purpose."""

import os
import re
import time

from ceph_conformance.secrets import _CEPHX_KEY
from ceph_conformance.targets.host_clients.cephfs import FuseMount

from .harness import RunningSuite, run_suite


def _keyring_secret(cluster):
    return re.search(r"key = (\S+)", cluster.keyring("client.admin").read_text()).group(1)


def test_every_check_passes_on_a_healthy_cluster_and_leaves_it_as_it_was(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()
    pools_before = ceph.ceph_json("osd", "pool", "ls")
    run = run_suite(tmp_path, "-m", "not disruptive", *existing)
    assert run.returncode == 0, run
    r = run.results
    assert r["target"] == "ceph" and r["gate_start"]["ok"] and r["gate_end"]["ok"]
    assert not run.not_passed(), run.not_passed()
    assert len(run.checks("object")) >= 13 and len(run.checks("health")) == 5
    assert len(run.checks("block")) >= 9 and len(run.checks("sharedfs")) >= 10 and run.checks("baseline")
    figures = {m["name"]: m["value"] for m in r["metrics"]}
    for name in ("s3_put_64MiB_multipart", "s3_get_64MiB", "rbd_seq_write_256MiB", "rbd_seq_read_256MiB",
                 "cephfs_write_64MiB", "cephfs_read_64MiB_other_client", "rados_bench_write"):
        assert figures[name] > 0, (name, figures)
    assert set(r["relative_to_rados_bench"]) >= {"s3_get_64MiB", "rbd_seq_write_256MiB", "cephfs_write_64MiB"}

    # Nothing of the run remains on the cluster, and nothing else was changed.
    prefix = "cconf-" + r["run_id"]
    users = ceph.tool_json("radosgw-admin", "user", "list")
    buckets = ceph.tool_json("radosgw-admin", "bucket", "list")
    images = ceph.tool_json("rbd", "ls", "rbd")
    entities = [e["entity"] for e in ceph.ceph_json("auth", "ls")["auth_dump"]]
    assert not [u for u in users if u.startswith(prefix)], f"S3 users left: {users}"
    assert not [b for b in buckets if b.startswith(prefix)], f"buckets left: {buckets}"
    assert not [i for i in images if i.startswith(prefix)], f"RBD images left: {images}"
    assert not [e for e in entities if prefix in e], f"cephx users left: {entities}"
    assert ceph.ceph_json("osd", "pool", "ls") == pools_before
    assert "swept" not in run.output, "the checks left something for the run's sweep to remove"
    admin = FuseMount(ceph, "client.admin", live_cluster.keyring("client.admin"), "cephfs", tmp_path / "fsroot",
                      tmp_path)
    admin.mount()
    try:
        left = [name for name in os.listdir(admin.root) if name.startswith(prefix)]
    finally:
        admin.unmount()
    assert not left, f"directories of the run left in CephFS: {left}"

    # Reports: all written, and no key in any of them (the kept logs included).
    files = {str(p.relative_to(run.report_dir)): p.read_text() for p in run.report_dir.rglob("*") if p.is_file()}
    assert set(files) >= {"report.html", "pytest-html.html", "junit.xml", "results.json", "product.json",
                          "logs/progress.log"}
    assert "Conformance summary" in files["report.html"] and "s3_get_64MiB" in files["report.html"]
    secret = _keyring_secret(live_cluster)
    for name, text in files.items():
        assert secret not in text and not _CEPHX_KEY.search(text), f"a key appears in {name}"


def test_gate_fails_within_its_bound_naming_the_down_osd(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()
    # noout: the local cluster marks a dead OSD out after 5 s, re-replicates, and Ceph then says
    # HEALTH_OK (the gate would still name osd.2, but not Ceph's OSD_DOWN).
    ceph.ceph("osd", "set", "noout")
    try:
        live_cluster.stop_daemon("osd.2")
        run = run_suite(tmp_path, "-m", "object or health", "--gate-timeout=20", *existing)
    finally:
        ceph.ceph("osd", "unset", "noout")
    assert run.returncode == 1, run
    r = run.results
    assert not r["gate_start"]["ok"] and r["gate_start"]["waited_s"] < 20 + 15
    assert r["gate_end"] is None, "the end gate is not waited for again after the start gate failed"
    for check in run.checks("object"):
        assert check["outcome"] == "failed", check  # a failure, not an error and not a pass
        assert "HEALTH_OK gate not reached after" in check["message"] and "osd.2 is down" in check["message"]
        assert "ceph health detail:" in check["message"] and "OSD_DOWN" in check["message"]
    # The health checks still run and say which criterion is not met.
    assert run.check("test_every_osd_up_and_in")["outcome"] == "failed"
    assert "osd.2 is down" in run.check("test_every_osd_up_and_in")["message"]
    assert run.check("test_mons_in_quorum")["outcome"] == "passed"
    assert run.check("test_mgr_active")["outcome"] == "passed"


def test_mgr_check_and_gate_fail_when_the_mgr_is_gone(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()
    live_cluster.stop_daemon("mgr.x")
    # As the mon would after its 30 s beacon grace: the mgr is gone, not just late.
    ceph.ceph("mgr", "fail", "x")
    run = run_suite(tmp_path, "-m", "health", "--gate-timeout=15", *existing)
    assert run.returncode == 1, run
    assert not run.results["gate_start"]["ok"]
    assert "no active mgr" in run.results["gate_start"]["problems"], run.results["gate_start"]
    mgr = run.check("test_mgr_active")
    assert mgr["outcome"] == "failed" and "manager not available" in mgr["message"], mgr
    assert "no active mgr" in mgr["message"], mgr
    # Not asserted: Ceph's own MGR_DOWN. A cluster younger than mon_mgr_mkfs_grace (120 s) with no
    # mgr is HEALTH_OK to Ceph (measured: for 85 s here); the gate's own mgr criterion catches it.
    # Only what the mgr provides fails: the mons and OSDs still say they are fine.
    assert run.check("test_mons_in_quorum")["outcome"] == "passed"
    assert run.check("test_every_osd_up_and_in")["outcome"] == "passed"


def test_unreachable_cluster_fails_every_check_quickly_saying_so(live_cluster, existing, tmp_path):
    for mon in live_cluster.mons:  # one mon down leaves a quorum: all of them
        live_cluster.stop_daemon(mon)
    t0 = time.monotonic()
    run = run_suite(tmp_path, "-m", "health", *existing, timeout=300)
    elapsed = time.monotonic() - t0
    assert run.returncode == 1, run
    checks = run.checks("health")
    assert len(checks) == 5 and {c["outcome"] for c in checks} == {"failed"}, checks
    for check in checks:
        assert f"cannot reach the cluster of {live_cluster.conf}" in check["message"], check
        assert "timed out" in check["message"], check
    # One probe at teardown, not a timeout per kind of leftover swept.
    assert "cannot reach the cluster to sweep" in run.output and "could not list" not in run.output, run
    assert elapsed < 150, f"the run took {elapsed:.0f}s against a cluster it could not reach"


def test_object_checks_fail_naming_the_endpoint_when_rgw_is_down(live_cluster, existing, tmp_path):
    live_cluster.stop_daemon("client.rgw.a")
    run = run_suite(tmp_path, "-m", "object", *existing)
    assert run.returncode == 1, run
    endpoint = live_cluster.rgw_endpoint
    for check in run.checks("object"):
        assert check["outcome"] == "failed", check
        assert check["message"].startswith("S3 endpoint unreachable"), check
        assert endpoint in check["message"] and "Is RGW running" in check["message"], check
        assert "Traceback" not in check["message"] and "raise " not in check["message"], check
    # The temporary users were still removed (through RADOS, not the dead gateway).
    prefix = "cconf-" + run.results["run_id"]
    assert not [u for u in live_cluster.client().tool_json("radosgw-admin", "user", "list") if u.startswith(prefix)]


def test_teardown_sweeps_s3_users_of_the_run_that_checks_left(live_cluster, existing, tmp_path):
    """If a check's own cleanup did not happen (the process died), the run's teardown removes its users."""
    from ceph_conformance.clients.rgw_admin import RgwAdmin

    suite = RunningSuite(tmp_path / "reports", "-m", "health", *existing,
                         "-p", "tests.integration.barrier_plugin",
                         env={"CCONF_SELFTEST_BARRIER": str(tmp_path / "go")})
    try:
        run_dir = suite.run_dir()
        suite.wait_for_file(lambda: run_dir / "session" / "gate-start.json", timeout=180)
        orphan = f"cconf-{run_dir.name}-gw9-user-1"  # as an xdist worker killed mid-check would leave it
        RgwAdmin(live_cluster.client()).create_user(orphan)
        (tmp_path / "go").touch()
        run = suite.finish(timeout=180)
    finally:
        suite.kill()
    assert run.returncode == 0, run
    assert f"swept S3 user {orphan}" in run.output
    assert orphan not in live_cluster.client().tool_json("radosgw-admin", "user", "list")


def test_a_run_that_leaves_the_cluster_unhealthy_fails(live_cluster, existing, tmp_path):
    barrier = tmp_path / "broken"
    suite = RunningSuite(tmp_path / "reports", "-m", "health", "--gate-timeout=15", *existing,
                         "-p", "tests.integration.barrier_plugin", env={"CCONF_SELFTEST_BARRIER": str(barrier)})
    try:
        run_dir = suite.run_dir()
        suite.wait_for_file(lambda: run_dir / "session" / "gate-start.json", timeout=180)
        live_cluster.stop_daemon("osd.2")
        barrier.touch()
        run = suite.finish(timeout=180)
    finally:
        suite.kill()
    assert run.returncode == 1, run
    gate_end = run.results["gate_end"]
    assert not gate_end["ok"] and "osd.2 is down" in gate_end["problems"], gate_end
    assert "the run left the cluster unhealthy" in run.output


def test_disruptive_checks_skip_on_an_existing_cluster_saying_why(live_cluster, existing, tmp_path):
    ceph = live_cluster.client()
    osds_before = ceph.ceph_json("osd", "ls")
    for args, reason in (((), "pass --allow-disruptive"), (("--allow-disruptive",), "cannot add or remove OSDs")):
        run = run_suite(tmp_path / reason.split()[-1], "-m", "disruptive", *args, *existing)
        assert run.returncode == 0, run
        checks = run.checks("disruptive")
        assert len(checks) == 4 and {c["outcome"] for c in checks} == {"skipped"}, checks
        assert all(reason in c["message"] and "target ceph" in c["message"] for c in checks), checks
    assert ceph.ceph_json("osd", "ls") == osds_before
