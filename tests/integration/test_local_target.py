"""The embedded default end to end: one cluster per run (also under xdist), reports, and nothing
left behind whether the run passes, is interrupted, or is killed and swept by the next run."""

import signal
import subprocess
import sys

from ceph_conformance.host import processes
from ceph_conformance.waits import wait_for

from .harness import APP_MODULES, REPO, RUN_ROOT, RunningSuite, leftovers, reap_children, run_suite


def test_embedded_default_end_to_end_under_xdist(tmp_path):
    # The whole suite, the application checks too (named, so the harness's --ignore does not hold).
    run = run_suite(tmp_path, "-n", "2", "suites", *APP_MODULES, timeout=1500)
    assert run.returncode == 0, run
    r = run.results
    assert r["target"] == "local" and not run.not_passed(), run.not_passed()
    assert {m for c in r["checks"] for m in c["markers"]} >= {"health", "object", "block", "sharedfs", "baseline",
                                                              "scale", "removal", "disruptive"}
    # The disruptive checks ran after every other check had finished, one after the other,
    # scale-out first, although two workers shared the run.
    disruptive = sorted((c for c in r["checks"] if "disruptive" in c["markers"]), key=lambda c: c["started"])
    others = [c for c in r["checks"] if "disruptive" not in c["markers"]]
    # Its setup may begin earlier: the disruptive_turn fixture waits there for the others to finish.
    last_other = max(c["finished"] for c in others)
    assert disruptive[0]["call_started"] >= last_other, ("a disruptive check overlapped others", disruptive[0],
                                                         last_other)
    assert all(a["finished"] <= b["started"] for a, b in zip(disruptive, disruptive[1:], strict=False)), disruptive
    modules = [c["nodeid"].split("::")[0] for c in disruptive]
    assert modules == ["suites/test_scale.py"] * 2 + ["suites/test_removal.py"] * 2, modules
    # Each step in the report: scale-out from 4 to 6 OSDs (+12 GiB), the failed host's two OSDs
    # purged (leaving 3 hosts for pools of 3 copies), the ledger intact after every step.
    steps = {s["step"]: s for s in r["disruptive_steps"]}
    grow = steps["test_new_host_and_extra_osd_join_and_take_data"]
    assert (grow["osds_before"], grow["osds_after"]) == (4, 6), grow
    assert grow["capacity_after_gib"] - grow["capacity_before_gib"] == 12.0, grow
    purge = steps["test_removed_host_is_purged_and_capacity_drops_by_its_share"]
    assert (purge["osds_before"], purge["osds_after"]) == (6, 4), purge
    assert all(s["ledger_ok"] and s["recovery_s"] is not None for s in steps.values()), steps
    assert "Disruptive steps" in (run.report_dir / "report.html").read_text()
    assert run.output.count("bringing up target local") == 1, "two workers must share one cluster"
    facts = r["cluster"]["facts"]
    # The daemons are the host's packages: the version `ceph --version` says ("ceph version X (...)").
    host_ceph = subprocess.run(["ceph", "--version"], capture_output=True, text=True, timeout=60).stdout.split()
    assert facts["osd_count"] == 4 and facts["ceph_versions"][0].split()[0] == host_ceph[2], (facts, host_ceph)
    # Production's shape: three mons, every pool 3 copies that serve I/O with 2.
    assert facts["mon_count"] == 3 and list(facts["pool_sizes"]) == ["3/2"], facts
    # The MDS starts with RGW while the pools are made ("gateways").
    assert set(r["phases"]) >= {"mon", "mgr", "osds", "gateways", "pools", "rgw", "bring_up_total"}
    assert 0 < r["time_to_health_ok_s"] < 120, r["time_to_health_ok_s"]
    assert r["gate_end"]["ok"] and r["teardown_s"] is not None
    assert "RGW listening on http://127.0.0.1:" in run.output and "HEALTH_OK gate passed" in run.output
    assert (tmp_path / "latest").resolve().name == r["run_id"]
    junit = (run.report_dir / "junit.xml").read_text()
    assert junit.count("<testcase") == len(r["checks"]) and 'name="metric:s3_get_64MiB[MB/s]"' in junit
    assert "time to HEALTH_OK" in (run.report_dir / "report.html").read_text()
    assert leftovers(RUN_ROOT / r["run_id"]) == []


def test_interrupted_bring_up_leaves_nothing(tmp_path):
    suite = RunningSuite(tmp_path, "-m", "object")
    try:
        run_dir = suite.run_dir()
        # Ctrl-C in the middle of bring-up: the mon is up and OSDs are being made.
        suite.wait_for_file(lambda: run_dir / "cluster" / "data" / "osd.0", timeout=120)
        suite.signal(signal.SIGINT)
        run = suite.finish(timeout=180)
    finally:
        suite.kill()
    assert run.returncode == 2, run  # pytest: interrupted
    assert "tearing down (interrupted)" in run.output
    assert leftovers(run_dir) == []


def _database_running(run_dir):
    return any(processes.command_name(pid) == "mariadbd" for pid in processes.pids_with_marker(str(run_dir)))


def test_next_run_sweeps_leftovers_of_a_killed_run(tmp_path):
    suite = RunningSuite(tmp_path / "killed", "-m", "block")
    try:
        run_dir = suite.run_dir()
        # Kill it mid-check: MariaDB running on an RBD volume, XFS mounted on a loop device
        # backed by an rbd-fuse file: every layer the sweep must take apart in order.
        wait_for(lambda: (_database_running(run_dir), "no mariadbd yet"), what="MariaDB of the block checks",
                 timeout=240, interval=0.5)
    finally:
        suite.kill()  # SIGKILL: no teardown at all
    left = leftovers(run_dir)
    for kind in ("(mariadbd)", "(rbd-fuse)", "(ceph-osd)", "(ceph-mon)", "loop device", "mount"):
        assert any(kind in x or x.startswith(kind) for x in left), (kind, left)

    # The next run, even one that selects no check, sweeps them first.
    run = run_suite(tmp_path / "next", "-k", "no_check_is_named_this")
    reap_children()
    assert run.returncode == 5, run  # pytest: no tests selected
    assert f"swept leftovers of an earlier run {run_dir}" in run.output and "mon.a" in run.output
    assert leftovers(run_dir) == []


def test_keep_cluster_leaves_it_reachable_until_swept(tmp_path):
    run = run_suite(tmp_path, "-m", "smoke and health", "--keep-cluster")
    assert run.returncode == 0, run
    run_dir = RUN_ROOT / run.results["run_id"]
    try:
        assert run.results["kept"] and f"ceph -c {run_dir}/cluster/ceph.conf" in run.output
        assert "S3 endpoint: http://127.0.0.1:" in run.output
        status = subprocess.run(["ceph", "-c", f"{run_dir}/cluster/ceph.conf", "-k",
                                 f"{run_dir}/cluster/keyring/client.admin.keyring", "health"],
                                capture_output=True, text=True, timeout=60)
        assert status.stdout.startswith("HEALTH_OK"), status
        # A later run leaves a kept cluster alone...
        later = run_suite(tmp_path / "later", "-k", "no_check_is_named_this")
        assert later.returncode == 5 and run_dir.exists() and "swept" not in later.output, later
    finally:
        sweep = subprocess.run([sys.executable, "-m", "ceph_conformance", "sweep", "--include-kept",
                                "--run-root", str(RUN_ROOT)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert sweep.returncode == 0 and f"swept {run_dir}" in sweep.stdout, sweep
    reap_children()
    assert leftovers(run_dir) == []
