"""`python -m ceph_conformance` says what it is: the suite runs through pytest, and each command has one line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("sweep", "sweep-cluster", "rook-manifests", "testbed", "matrix", "ceph-image", "catalogue")


def _run(*args):
    return subprocess.run([sys.executable, "-m", "ceph_conformance", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args", [(), ("--help",)], ids=["no arguments", "--help"])
def test_help_says_what_the_tool_is_and_that_the_suite_runs_through_pytest(args):
    proc = _run(*args)
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "conformance suite for Ceph storage" in said, proc.stdout
    assert "make conformance" in said and "pytest" in said, proc.stdout
    for command in COMMANDS:
        line = next((x for x in proc.stdout.splitlines() if x.split()[:1] == [command]), None)
        assert line is not None, f"{command} missing from the help:\n{proc.stdout}"
        # One line: the name, then its description on the same line.
        assert re.match(rf"\s+{re.escape(command)}\s{{2,}}\S", line), f"{command} has no one-line description: {line!r}"
