"""Ceph's command-line tools (ceph, rados, rbd, radosgw-admin) against one cluster, through the
target's CephTools (dataplane/tools.py): a subprocess here, an exec in a toolbox pod elsewhere."""

import json
from types import SimpleNamespace

from .dataplane import ceph_session
from .errors import CommandError


class CephClient:
    """One cluster, one client identity. Targets differ only in their CephTools."""

    def __init__(self, tools, timeout=60.0):
        self.tools = tools
        self.timeout = timeout

    @property
    def name(self):
        return getattr(self.tools, "name", "client.admin")

    def tool_bytes(self, tool, *args, input=None, timeout=None):
        """Run one of Ceph's tools; return its stdout as bytes. Raises CommandError on failure."""
        __tracebackhide__ = True
        t = timeout or self.timeout
        result = ceph_session.run_ceph(self.tools, args, input, t) if tool == "ceph" else None
        if result is None:
            result = self.tools.call(tool, args, input=input, timeout=t)
        if result.returncode != 0:
            said = result.stderr.decode(errors="replace") + result.stdout.decode(errors="replace")
            raise CommandError(result.argv, result.returncode, said)
        return result.stdout

    def tool(self, tool, *args, input=None, timeout=None):
        """Run one of Ceph's tools; return its stdout as text."""
        __tracebackhide__ = True
        data = input.encode() if isinstance(input, str) else input
        return self.tool_bytes(tool, *args, input=data, timeout=timeout).decode(errors="replace")

    def _connect_timeout(self, t):
        # --connect-timeout keeps a dead mon from stalling the CLI past our own bound.
        return ["--connect-timeout", str(int(max(5, t - 5)))]

    def ceph(self, *args, input=None, timeout=None):
        __tracebackhide__ = True
        t = timeout or self.timeout
        return self.tool("ceph", *self._connect_timeout(t), *args, input=input, timeout=t)

    def run_ceph(self, *args, timeout=None):
        """`ceph ...` whose exit status is part of the answer (ok-to-stop): returncode, stdout and
        stderr (text)."""
        t = timeout or self.timeout
        args = [*self._connect_timeout(t), *args]
        result = ceph_session.run_ceph(self.tools, args, None, t) or self.tools.call("ceph", args, timeout=t)
        return SimpleNamespace(returncode=result.returncode, stdout=result.stdout.decode(errors="replace"),
                               stderr=result.stderr.decode(errors="replace"))

    def ceph_json(self, *args, timeout=None):
        __tracebackhide__ = True
        out = self.ceph(*args, "--format", "json", timeout=timeout)
        return json.loads(out) if out.strip() else {}

    def tool_json(self, tool, *args, timeout=None):
        __tracebackhide__ = True
        out = self.tool(tool, *args, "--format", "json", timeout=timeout)
        return json.loads(out) if out.strip() else {}
