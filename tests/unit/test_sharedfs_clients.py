"""The shared-filesystem checks' two client programs are bounded: a hung one is killed and named."""

import importlib.util
import os
import time
from pathlib import Path

import pytest

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


def test_a_hung_client_is_killed_and_named_with_what_it_printed():
    t0 = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failure:
        suite._run_both(_SCRIPT, ("A",), ("B",), timeout=2)
    elapsed = time.monotonic() - t0
    message = str(failure.value)
    assert "client B did not finish within 2s" in message, message
    assert "B started" in message and "A started" in message, message
    assert elapsed < 15, f"took {elapsed:.1f}s"
    # Nothing left running: no process of ours still sleeps.
    mine = [p for p in os.listdir("/proc") if p.isdigit() and _is_child_sleeper(p)]
    assert not mine, mine


def test_clients_that_finish_pass():
    suite._run_both('import sys; print(sys.argv[1])', ("A",), ("B",), timeout=30)


def test_a_failing_client_is_named():
    with pytest.raises(AssertionError, match="client A's process failed: .*boom"):
        suite._run_both('import sys; sys.exit("boom" if sys.argv[1] == "A" else 0)', ("A",), ("B",), timeout=30)


def _is_child_sleeper(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    ppid = int(stat[stat.rfind(")") + 2:].split()[1])
    return ppid == os.getpid() and b"time.sleep(600)" in cmdline and stat[stat.rfind(")") + 2] != "Z"
