"""Ceph's tools as this host runs them: a subprocess with the cluster's ceph.conf and keyring."""

import os
import subprocess

from ...dataplane.tools import CephTools, ToolResult
from ...errors import CommandError
from ...host import processes


class HostClientLauncher:
    """How long-running clients (rbd-fuse, ceph-fuse) start and crash: as processes of this host.
    (The local target's --ceph-image runs them in containers instead: targets/local/containers.py.)"""

    def start(self, argv, log, owner, mountpoint):
        return processes.start(argv, log, owner)

    def kill(self, pid, owner):
        processes.kill(pid, owner)


class HostCephTools(CephTools):
    """conf, keyring, name: the identity the tools run with (also what host clients such as
    rbd-fuse and ceph-fuse are started with, by launcher)."""

    launcher = HostClientLauncher()

    def __init__(self, conf, keyring=None, name="client.admin"):
        self.conf = str(conf)
        self.keyring = str(keyring) if keyring else None
        self.name = name

    def identity_args(self):
        return ["-c", self.conf, "-n", self.name, *(["-k", self.keyring] if self.keyring else [])]

    def command(self, tool, args, interactive=False):
        """The argv that runs tool with args (interactive: it reads stdin)."""
        return [tool, *args]

    def session_argv(self, program, launch, connect_timeout, osd_op_timeout):
        """How dataplane/ceph_session.py starts its program under this identity, where the tools run."""
        return self.command("sh", ["-c", launch, "sh", program, self.conf, self.name, self.keyring or "",
                                   str(connect_timeout), str(osd_op_timeout)], interactive=True)

    def run(self, tool, args, *, input=None, timeout=60.0):
        __tracebackhide__ = True
        argv = self.command(tool, [*self.identity_args(), *(str(a) for a in args)], interactive=input is not None)
        try:
            proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                                  stdin=None if input is not None else subprocess.DEVNULL, env=dict(os.environ))
        except subprocess.TimeoutExpired as exc:
            said = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            raise CommandError(argv, None, said, timeout=timeout) from None
        except FileNotFoundError:
            raise CommandError(argv, 127, f"{tool}: command not found") from None
        return ToolResult(argv, proc.returncode, proc.stdout, proc.stderr)
