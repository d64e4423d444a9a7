"""Ceph's command-line tools (ceph, rados, rbd, radosgw-admin), run wherever the target runs them."""

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from .. import toolstats


@dataclass
class ToolResult:
    argv: list  # as run, for messages (never holds a secret: identities are files or env)
    returncode: int
    stdout: bytes
    stderr: bytes


class CephTools(ABC):
    """Runs one of Ceph's tools with the run's admin identity: argv and stdin bytes in, stdout bytes
    out, bounded. Local and existing targets: a subprocess on this host with the run's ceph.conf;
    Rook: exec in the toolbox pod. Nothing goes through local files."""

    @abstractmethod
    def run(self, tool, args, *, input=None, timeout=60.0):
        """Run `tool args...` with input (bytes) on stdin. Returns a ToolResult whatever the exit
        status; raises CommandError only when the tool could not be run or overran timeout."""

    def session_argv(self, program, launch, connect_timeout, osd_op_timeout):
        """The argv that starts dataplane/ceph_session.py's program where these tools run, under
        their identity; None where no such session can be had (each call is then the tool's)."""
        return None

    def call(self, tool, args, *, input=None, timeout=60.0):
        """run(), counted per tool in this process (toolstats: results.json's tool_calls per check)."""
        __tracebackhide__ = True
        t0 = time.monotonic()
        try:
            return self.run(tool, args, input=input, timeout=timeout)
        finally:
            toolstats.record(tool, time.monotonic() - t0)
