"""Daemon processes of a run: started in their own session, found and stopped by the run marker.

Daemons are started detached (own session), so Ctrl-C at the terminal does not reach them and
teardown can stop them in dependency order. A daemon may outlive the pytest process that
started it (an xdist worker), so liveness and stopping work from the pid plus the run marker in
the command line: a reused pid never matches the marker, and nothing outside the run is touched.
"""

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

_CHILDREN: dict[int, subprocess.Popen] = {}
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Adopt orphaned descendants (daemons an exited xdist worker started) so we can reap them.

    Without this they are re-parented to PID 1, which in containers often never reaps, and a
    stopped daemon would linger as a zombie.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap(pid):
    """Collect pid's exit status if it is our (possibly adopted) child; harmless otherwise."""
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.poll()
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def start(argv, log_path):
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def command_name(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def rss_bytes(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _state(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split(" ", 1)[0]


def is_alive(pid, marker):
    """The process exists, is not a zombie, and belongs to the run (marker in its command line)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    state = _state(pid)
    if state is None or state in ("Z", "X"):
        return False
    return marker in _cmdline(pid)


def pids_with_marker(marker):
    """Pids of live processes whose command line contains marker (the run directory)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != me:
            pid = int(entry.name)
            if marker in _cmdline(pid) and _state(pid) not in (None, "Z", "X"):
                found.append(pid)
    return sorted(found)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop(pid, marker, timeout=15.0):
    """SIGTERM, wait up to timeout, then SIGKILL. Returns 'stopped', 'killed' or 'gone'."""
    if not is_alive(pid, marker):
        reap(pid)
        return "gone"
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, marker, timeout):
        return "stopped"
    _signal(pid, signal.SIGKILL)
    _wait_gone(pid, marker, 10.0)
    return "killed"


def kill(pid, marker):
    """SIGKILL at once (a crash, as a test wants it). Returns once the process is gone."""
    if is_alive(pid, marker):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, marker, 10.0)


def _wait_gone(pid, marker, timeout):
    # Ownership was checked by marker before signalling. From here, wait for the process itself
    # to end: an exiting process drops its command line before it closes its files, so "marker
    # gone" is too early (a mount it used would still be busy). A zombie has closed them.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child = _CHILDREN.get(pid)
        if (child is not None and child.poll() is not None) or _state(pid) in (None, "Z", "X"):
            reap(pid)
            return True
        time.sleep(0.1)
    return False
