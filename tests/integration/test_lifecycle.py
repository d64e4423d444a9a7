"""The controller tears the run's cluster down whatever happened before: a failed gate or Ctrl-C
under xdist (where the controller never touched the cluster itself), or a SIGTERM while teardown
runs, or a terminal that went away (`| head`). Nothing is left right after the run, without waiting
for a next run's sweep."""

import json
import signal

from .harness import RUN_ROOT, RunningSuite, leftovers, run_suite


def test_failed_gate_under_xdist_leaves_nothing(tmp_path):
    run = run_suite(tmp_path, "-n", "2", "-m", "object", "--gate-timeout=15",
                    "-p", "tests.integration.break_before_gate", timeout=600)
    assert run.returncode == 1, run
    r = run.results
    assert r["cluster"]["ok"] and not r["gate_start"]["ok"], r["gate_start"]
    assert any("osd.0 is down" in p for p in r["gate_start"]["problems"]), r["gate_start"]["problems"]
    assert {c["outcome"] for c in r["checks"]} == {"failed"}
    assert r["teardown_s"] is not None and r["teardown_error"] is None, run
    assert r["resource_usage"].get("daemon_rss_mib", {}).get("total", 0) > 0, r["resource_usage"]
    assert leftovers(_run_dir(run)) == [], "the failed-gate run left its cluster behind"


def test_ctrl_c_under_xdist_after_bring_up_leaves_nothing(tmp_path):
    suite = RunningSuite(tmp_path, "-n", "2", "-m", "object")
    try:
        run_dir = suite.run_dir()
        # The gate has passed: workers are running checks on the cluster they brought up.
        suite.wait_for_file(lambda: run_dir / "session" / "gate-start.json", timeout=300)
        suite.signal(signal.SIGINT)
        run = suite.finish(timeout=300)
    finally:
        suite.kill()
    assert run.returncode == 2, run  # pytest: interrupted
    assert "tearing down (interrupted)" in run.output and "teardown done" in run.output, run
    # The workers were still running checks: they are stopped before the cluster goes, or a check
    # ending afterwards writes into the removed run directory.
    assert 0 <= run.output.find("workers stopped in") < run.output.find("tearing down (interrupted)"), run
    assert leftovers(run_dir) == []


def test_sigterm_during_teardown_does_not_abort_it(tmp_path):
    suite = RunningSuite(tmp_path, "-m", "health")
    try:
        run_dir = suite.run_dir()
        progress = run_dir / "progress.log"
        suite.wait_for_file(lambda: progress if progress.exists() and "tearing down" in progress.read_text()
                            else None, timeout=300)
        suite.signal(signal.SIGTERM)  # a CI timeout or a supervisor, while the daemons are being stopped
        suite.signal(signal.SIGINT)
        run = suite.finish(timeout=300)
    finally:
        suite.kill()
    assert "teardown done" in run.output, run
    assert run.results is not None and run.results["teardown_s"] is not None, run
    assert leftovers(run_dir) == []


def test_a_terminal_that_goes_away_does_not_stop_teardown(tmp_path):
    """The reader of the suite's output ends once the gate has passed (`pytest ... | head`, a killed
    harness): every later write to the terminal fails, and the run must still tear down."""
    suite = RunningSuite(tmp_path, "-m", "health")
    try:
        run_dir = suite.run_dir()
        suite.wait_for_file(lambda: run_dir / "session" / "gate-start.json", timeout=300)
        suite.proc.stdout.close()  # the pipe's only reader: the suite's next write gets EPIPE
        suite.proc.wait(timeout=300)
    finally:
        suite.kill()
    assert leftovers(run_dir) == [], "the run left its cluster behind when its terminal went away"
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert results["teardown_s"] is not None and results["teardown_error"] is None, results["teardown_error"]


def _run_dir(run):
    return RUN_ROOT / run.results["run_id"]
