"""Runs Ceph's command-line tools (ceph, rados, rbd, radosgw-admin) against one cluster."""

import json

from .commands import run


class CephClient:
    """One cluster, one client identity. Targets differ only in how the tools are reached."""

    def __init__(self, conf, keyring=None, name="client.admin", timeout=60.0):
        self.conf = str(conf)
        self.keyring = str(keyring) if keyring else None
        self.name = name
        self.timeout = timeout

    def identity_args(self):
        args = ["-c", self.conf, "-n", self.name]
        if self.keyring:
            args += ["-k", self.keyring]
        return args

    def tool(self, tool, *args, input=None, timeout=None):
        """Run one of Ceph's tools with this identity; return its stdout."""
        __tracebackhide__ = True
        argv = [tool, *self.identity_args(), *args]
        return run(argv, input=input, timeout=timeout or self.timeout).stdout

    def ceph(self, *args, input=None, timeout=None):
        __tracebackhide__ = True
        t = timeout or self.timeout
        # --connect-timeout keeps a dead mon from stalling the CLI past our own bound.
        return self.tool("ceph", "--connect-timeout", str(int(max(5, t - 5))), *args, input=input, timeout=t)

    def run_ceph(self, *args, timeout=None):
        """`ceph ...` whose exit status is part of the answer (ok-to-stop): the CompletedProcess."""
        t = timeout or self.timeout
        argv = ["ceph", *self.identity_args(), "--connect-timeout", str(int(max(5, t - 5))), *args]
        return run(argv, timeout=t, check=False)

    def ceph_json(self, *args, timeout=None):
        __tracebackhide__ = True
        out = self.ceph(*args, "--format", "json", timeout=timeout)
        return json.loads(out) if out.strip() else {}

    def tool_json(self, tool, *args, timeout=None):
        __tracebackhide__ = True
        out = self.tool(tool, *args, "--format", "json", timeout=timeout)
        return json.loads(out) if out.strip() else {}
