"""Bad input and an unfit host get one line that says what is wrong and what to do; nothing is created."""

import os
import socket
import subprocess
import sys

import pytest

from .harness import REPO, run_suite

VENV_BIN = str(REPO / ".venv" / "bin")


def assert_one_line_error(run, expected):
    __tracebackhide__ = True
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert run.returncode == 4, run
    assert errors == [errors[0]] and errors[0].startswith(f"ERROR: {expected}"), run
    assert "Traceback" not in run.output, run
    assert run.results is None, "a run refused at the start wrote a report"


@pytest.mark.parametrize("args, expected", [
    (["--target", "nope"], "--target nope: unknown target; choose one of local, ceph"),
    (["--target", "kubeconfig", "--rook-namespace=rook-ceph", "--kubeconfig=/nonexistent/kubeconfig"],
     "--kubeconfig /nonexistent/kubeconfig: no such file"),
    (["--target", "ceph"], "--target ceph needs --ceph-conf PATH"),
    (["--target", "ceph", "--ceph-conf", "/nonexistent/ceph.conf"], "--ceph-conf /nonexistent/ceph.conf: no such file"),
    (["--osd-size-gib", "0.5"], "--osd-size-gib 0.5: BlueStore needs at least 2 GiB"),
])
def test_bad_options(tmp_path, args, expected):
    assert_one_line_error(run_suite(tmp_path, "-m", "object", *args, timeout=120), expected)


def test_busy_rgw_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = run_suite(tmp_path, "-m", "object", "--rgw-port", str(port), timeout=120)
    assert_one_line_error(run, f"port {port} on 127.0.0.1 is in use: free it or pick another with --rgw-port")


def test_not_root(tmp_path):
    os.chmod(tmp_path, 0o777)
    run = run_suite(tmp_path, "-m", "object", user=65534, timeout=120)
    assert_one_line_error(run, "target local needs root")


def test_missing_ceph_binaries(tmp_path):
    run = run_suite(tmp_path, "-m", "object", env={"PATH": VENV_BIN}, timeout=120)
    assert_one_line_error(run, "missing ceph-mon, ceph-mgr, ceph-osd, ceph-mds, radosgw, ceph, rados, rbd")
    assert "make deps" in run.output


def test_path_option_taken_for_a_test_path_is_explained(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--target", "ceph",
                           "--ceph-conf", "/etc/hostname", "-m", "object"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "write path options with '=' (--ceph-conf=/etc/ceph/ceph.conf) or add -c pyproject.toml" in proc.stderr


@pytest.mark.parametrize("args, env", [
    (["--osd-size-gib", "0.5"], None),  # refused while reading the options
    (["--target", "ceph", "--ceph-conf", "/nonexistent/ceph.conf"], None),  # by the target's preflight
    ([], {"PATH": VENV_BIN}),  # by the local target's preflight: no Ceph binaries
], ids=["bad-option", "existing-target-preflight", "local-target-preflight"])
def test_a_refused_run_creates_no_run_directory(tmp_path, args, env):
    # A run root of its own: what this refusal created, and nothing another test left there.
    run_root = tmp_path / "runs"
    run = run_suite(tmp_path / "report", "-m", "object", *args, f"--run-root={run_root}", env=env, timeout=120)
    assert run.returncode == 4 and "ERROR: " in run.output, run
    made = sorted(p.name for p in run_root.iterdir()) if run_root.exists() else []
    assert made == [], f"the refused run left {made} under {run_root}"
