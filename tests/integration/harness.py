"""Runs the conformance suite as a user would (a separate pytest process) and reads its verdicts."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ceph_conformance.host import containers, loopdev, processes
from ceph_conformance.host.mounts import mounts_under
from ceph_conformance.waits import WaitTimeout, wait_for

from .barrier_plugin import barrier_paths

REPO = Path(__file__).resolve().parents[2]
# The project's tests keep their runs apart from a user's default run root; under xdist each worker
# has a root of its own, so what one worker's tests count as left behind is theirs alone.
RUN_ROOT = Path(os.environ.get("CCONF_SELFTEST_RUN_ROOT", "/var/tmp/ceph-conformance-selftest"),
                os.environ.get("PYTEST_XDIST_WORKER", ""))


@dataclass
class SuiteRun:
    returncode: int
    output: str
    results: dict | None
    report_dir: Path | None
    check_seconds: float | None = None
    step_seconds: dict | None = None

    def check(self, name):
        """The results.json entry of a check, by function name (with parameters if any)."""
        found = [c for c in self.results["checks"] if c["nodeid"].split("::")[-1] == name]
        assert found, f"no check {name} in the run; checks: {[c['nodeid'] for c in self.results['checks']]}"
        return found[0]

    def checks(self, marker):
        return [c for c in self.results["checks"] if marker in c["markers"]]

    def not_passed(self):
        """The checks that neither passed nor ended as a known defect of the version under test (the
        host's RGW 16.2.15 takes x-amz-* headers a presigned PUT was not signed with:
        ceph_conformance/known_defects.py)."""
        return [c for c in self.results["checks"] if c["outcome"] != "passed"
                and not (c["outcome"] == "xfailed" and (c["message"] or "").startswith("known defect of "))]

    def __repr__(self):  # what a failing assertion shows: the end of the run's output
        return f"SuiteRun(rc={self.returncode}, output tail:\n{self.output[-4000:]})"


# The checks of whole applications on the storage (the S3 tools rclone, s3cmd and aws-cli; a container
# registry on RGW; MinIO and Ghost on CephFS) run only where a test names their module: their own
# break-it tests and the end-to-end run of the whole suite. Each costs 25-40 s in every `-m object` or
# `-m sharedfs` run otherwise, and their verdicts under another test's broken gateway are not that
# test's subject. A path given on the command line is collected despite --ignore.
S3_TOOLS_MODULE = "suites/test_object_clients.py"
REGISTRY_MODULE = "suites/test_object_registry.py"
MINIO_MODULE = "suites/test_apps_minio.py"
GHOST_MODULE = "suites/test_apps_ghost.py"
APP_MODULES = (S3_TOOLS_MODULE, REGISTRY_MODULE, MINIO_MODULE, GHOST_MODULE)


def suite_command(report_dir, *args):
    return [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-p", "no:cacheprovider",
            f"--run-root={RUN_ROOT}", f"--report-dir={report_dir}", *(f"--ignore={m}" for m in APP_MODULES), *args]


def run_suite(report_dir, *args, timeout=900, env=None, user=None):
    cmd = suite_command(report_dir, *args)
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    return _collect(proc.returncode, proc.stdout + proc.stderr, report_dir)


def _collect(returncode, output, report_dir):
    latest = Path(report_dir) / "latest"
    results = json.loads((latest / "results.json").read_text()) if (latest / "results.json").exists() else None
    return SuiteRun(returncode, output, results, latest.resolve() if latest.exists() else None)


def _default_interrupt():
    """The suite starts with Ctrl-C's default meaning, whatever this process inherited: a shell
    that starts a job in the background (`.ci/run &`, nohup) makes it ignore SIGINT, and a suite
    started ignoring SIGINT would never see the Ctrl-C a test sends it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RunningSuite:
    """A suite run in the background, for tests that interrupt or kill it."""

    def __init__(self, report_dir, *args, env=None):
        self.report_dir = report_dir
        self.before = set(RUN_ROOT.glob("*")) if RUN_ROOT.exists() else set()
        self.proc = subprocess.Popen(suite_command(report_dir, *args), cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})},
                                     preexec_fn=_default_interrupt)

    def _until(self, probe, what, timeout):
        """probe() -> a value once there, else None; fails at once if the suite exited meanwhile."""
        def attempt():
            value = probe()
            if value is None and self.proc.poll() is not None:
                return True, _EXITED
            return value is not None, value

        try:
            value = wait_for(attempt, what=what, timeout=timeout, interval=0.2)
        except WaitTimeout as exc:
            raise AssertionError(str(exc)) from None
        assert value is not _EXITED, f"suite exited early:\n{self.proc.stdout.read()}"
        return value

    def run_dir(self, timeout=60):
        def probe():
            new = [p for p in RUN_ROOT.glob("*") if p not in self.before and p.is_dir()]
            return new[0] if new else None

        return self._until(probe, f"a run directory under {RUN_ROOT}", timeout)

    def wait_for_file(self, path_fn, timeout):
        def probe():
            path = path_fn()
            return path if path is not None and path.exists() else None

        return self._until(probe, f"{path_fn()} to appear", timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def finish(self, timeout=300):
        out, _ = self.proc.communicate(timeout=timeout)
        return _collect(self.proc.returncode, out, self.report_dir)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)  # not communicate(): a test may have closed the suite's output
        if not self.proc.stdout.closed:
            self.proc.stdout.close()


_EXITED = object()


def break_during(report_dir, check, break_cluster, heal_cluster, *args, timeout=600):
    """Run the suite; just before `check` runs, break the cluster; right after it, heal it.

    Fixtures are set up on a healthy cluster and torn down on a healed one, so the verdict is
    the check's own. break_cluster and heal_cluster get the suite's run directory (where its own
    cluster lives, on the local target). The run's check_seconds is how long the check ran on
    the broken cluster."""
    return break_in_turn(report_dir, [(check, break_cluster, heal_cluster)], *args, timeout=timeout)


def break_in_turn(report_dir, steps, *args, timeout=600):
    """break_during for several checks in one suite run: steps are (check, break_cluster,
    heal_cluster), in the order the suite runs those checks; each check runs on the cluster its
    own break left and is healed before the next. step_seconds has how long each check ran
    broken, by name (check_seconds: the first's)."""
    assert steps and all(len(step) == 3 and "," not in step[0] for step in steps), steps
    barrier = Path(report_dir) / "barrier"
    suite = RunningSuite(report_dir, *args, "-p", "tests.integration.barrier_plugin",
                         env={"CCONF_SELFTEST_BARRIER": str(barrier),
                              "CCONF_SELFTEST_BARRIER_CHECK": ",".join(name for name, _, _ in steps)})
    seconds = {}
    try:
        run_dir = None
        for index, (name, break_it, heal_it) in enumerate(steps):
            paths = barrier_paths(barrier, index, len(steps))
            suite.wait_for_file(lambda paths=paths: paths["before"], timeout=timeout)
            run_dir = run_dir or suite.run_dir()
            try:
                break_it(run_dir)
            finally:
                paths["broken"].touch()
            released = time.monotonic()
            suite.wait_for_file(lambda paths=paths: paths["after"], timeout=timeout)
            seconds[name] = time.monotonic() - released
            try:
                heal_it(run_dir)
            finally:
                paths["healed"].touch()
        run = suite.finish(timeout=timeout)
        run.check_seconds = seconds[steps[0][0]]  # how long the check ran on the broken cluster
        run.step_seconds = seconds
        return run
    finally:
        suite.kill()


def leftovers(under=RUN_ROOT):
    """Everything of any run under `under` still on this machine: processes, mounts, loops, dirs."""
    found = []
    under = str(under)
    found += [f"process {pid} ({processes.command_name(pid)})" for pid in processes.pids_with_marker(under)]
    found += [f"mount {m}" for m in mounts_under(under)]
    found += [f"loop device {d} -> {f}" for d, f in loopdev.attached_under(under).items()]
    found += [f"container {name} ({role})" for name, role in containers.owned(under)]
    if Path(under).is_dir():
        found += [f"directory {p}" for p in Path(under).iterdir()]
    return found


def reap_children():
    """Collect exit statuses of adopted orphans (we are a subreaper); nothing else is pending then."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def until_health_says(cluster, code, timeout=90):
    """Wait, bounded, until the cluster raises health check code (a break-it step took effect)."""
    def probe():
        checks = cluster.client(timeout=20).ceph_json("health", "detail").get("checks", {})
        return code in checks, sorted(checks)

    wait_for(probe, what=f"health check {code}", timeout=timeout, interval=1)
