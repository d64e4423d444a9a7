"""Host shared-filesystem clients: paths stay inside the shared directory, and the checks' client
programs are bounded (a hung one is killed and named). Real processes, on a local directory."""

import importlib.util
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ceph_conformance.targets.host_clients.sharedfs import HostFilesystemClient

_SUITE = Path(__file__).resolve().parents[2] / "suites" / "test_sharedfs.py"
_spec = importlib.util.spec_from_file_location("suite_sharedfs", _SUITE)
suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suite)

_SCRIPT = """
import sys, time
print(f"{sys.argv[1]} started", flush=True)
if sys.argv[1] == "B":
    time.sleep(600)
"""


@pytest.fixture
def shared(tmp_path):
    return SimpleNamespace(a=HostFilesystemClient("client.a", tmp_path), b=HostFilesystemClient("client.b", tmp_path))


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside", "d/../../outside"])
def test_a_path_outside_the_shared_directory_is_refused(shared, path):
    with pytest.raises(ValueError, match="relative to the shared directory"):
        shared.a.read(path)


def test_paths_and_programs_are_relative_to_the_client_directory(shared, tmp_path):
    shared.a.mkdir("d")
    sub = shared.a.subdir("d")
    sub.write("f", b"x")
    assert (tmp_path / "d" / "f").read_bytes() == b"x"
    result = sub.run(["python3", "-c", "import os, sys; print(os.listdir('.'), sys.stdin.read())"], input="in",
                     timeout=30)
    assert result.returncode == 0 and result.output.strip() == "['f'] in", result


def test_a_hung_client_is_killed_and_named_with_what_it_printed(shared):
    t0 = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failure:
        suite._run_both(shared, _SCRIPT, ("A",), ("B",), timeout=2)
    elapsed = time.monotonic() - t0
    message = str(failure.value)
    assert "client B did not finish within 2s" in message, message
    assert "B started" in message and "A started" in message, message
    assert elapsed < 15, f"took {elapsed:.1f}s"
    # Nothing left running: no process of ours still sleeps.
    mine = [p for p in os.listdir("/proc") if p.isdigit() and _is_child_sleeper(p)]
    assert not mine, mine


def test_clients_that_finish_pass(shared):
    suite._run_both(shared, 'import sys; print(sys.argv[1])', ("A",), ("B",), timeout=30)


def test_a_failing_client_is_named(shared):
    with pytest.raises(AssertionError, match="client A's process failed: .*boom"):
        suite._run_both(shared, 'import sys; sys.exit("boom" if sys.argv[1] == "A" else 0)', ("A",), ("B",),
                        timeout=30)


def _is_child_sleeper(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    ppid = int(stat[stat.rfind(")") + 2:].split()[1])
    return ppid == os.getpid() and b"time.sleep(600)" in cmdline and stat[stat.rfind(")") + 2] != "Z"
