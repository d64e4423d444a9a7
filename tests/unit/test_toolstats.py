"""Ceph's tools counted per check: every call through a target's CephTools is recorded with its
time, whatever the tool's exit status, and a check's share is what ran after its snapshot."""

import subprocess
import time

from ceph_conformance import toolstats
from ceph_conformance.dataplane.tools import CephTools, ToolResult


class ProcessTools(CephTools):
    """Runs a real program in place of a Ceph tool: the counting does not depend on Ceph."""

    def run(self, tool, args, *, input=None, timeout=60.0):
        proc = subprocess.run([tool, *args], input=input, capture_output=True, timeout=timeout)
        return ToolResult([tool, *args], proc.returncode, proc.stdout, proc.stderr)


def test_each_call_is_counted_with_its_time_failed_ones_too():
    before = toolstats.snapshot()
    tools = ProcessTools()
    t0 = time.monotonic()
    tools.call("sleep", ["0.2"])
    tools.call("sleep", ["0.1"])
    assert tools.call("/bin/false", []).returncode == 1
    took = time.monotonic() - t0
    used = toolstats.since(before)
    assert used["sleep"]["calls"] == 2 and 0.3 <= used["sleep"]["seconds"] <= took + 0.01, used  # rounded to 10 ms
    assert used["false"]["calls"] == 1, used  # by the tool's name, not its path
    assert toolstats.since(toolstats.snapshot()) == {}
