"""Processes of a run: started in their own session, found and stopped by the mark they carry.

Daemons and clients are started detached (own session), so Ctrl-C at the terminal does not reach
them and teardown can stop them in dependency order. A daemon may outlive the pytest process that
started it (an xdist worker), so liveness and stopping work from the pid plus the run's mark: an
environment variable (OWNER_ENV) that start() gives each process, naming the path it belongs to.
A command line is not a mark: a user's `tail -f <run dir>/log/...`, or the `timeout`/`sudo`/shell
that started a sweep, names the run directory too, and must never be stopped. A reused pid does not
carry the mark either, and the sweep never signals its own process or any of its ancestors.
"""

import ctypes
import os
import signal
import subprocess

import psutil

from ..waits import WaitTimeout, wait_for

OWNER_ENV = "CCONF_OWNER"
_CHILDREN: dict[int, subprocess.Popen] = {}
_OWNERS: dict[int, str] = {}  # the mark each child was started with
_PR_SET_CHILD_SUBREAPER = 36
GONE_STATES = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


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
    _OWNERS.pop(pid, None)
    if child is not None:
        child.poll()
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def start(argv, log_path, owner, env=None, cwd=None):
    """Start argv detached, its output to log_path, marked as belonging to owner (a path of the run).
    env: variables added to this process's environment (an app's configuration and passwords: never
    on its command line); cwd: its working directory."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=cwd,
            env={**os.environ, **(env or {}), OWNER_ENV: str(owner)},
        )
    _CHILDREN[proc.pid] = proc
    _OWNERS[proc.pid] = str(owner)
    return proc.pid


def _owner(proc):
    try:
        return proc.environ().get(OWNER_ENV)
    except (psutil.Error, OSError):
        return None


def _belongs(owner, marker):
    marker = str(marker).rstrip("/")
    return owner is not None and (owner == marker or owner.startswith(marker + "/"))


def _running(proc):
    try:
        return proc.status() not in GONE_STATES
    except psutil.Error:
        return False


def command_name(pid):
    try:
        return psutil.Process(pid).name()
    except psutil.Error:
        return ""


def rss_bytes(pid):
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def is_alive(pid, marker):
    """The process exists, is not a zombie, and carries the mark of marker (or a path below it)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    if child is not None and _belongs(_OWNERS.get(pid), marker):
        # Our own running child: between fork and exec its environment is still ours, without the mark.
        return True
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return False
    return _running(proc) and _belongs(_owner(proc), marker)


def _protected():
    """This process and its ancestors: never signalled, whatever they carry."""
    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.parents())}


def pids_with_marker(marker):
    """Pids of live processes marked as belonging to marker (a run directory) or a path below it."""
    protected = _protected()
    found = []
    for proc in psutil.process_iter():
        if proc.pid not in protected and _running(proc) and _belongs(_owner(proc), marker):
            found.append(proc.pid)
    return sorted(found)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop(pid, marker, timeout=15.0, grace=0.0, kill=None):
    """SIGTERM, wait up to timeout, then SIGKILL. Returns 'gone' (was not running), 'exited' (ended
    by itself within grace), 'stopped', 'killed', or 'still running (<state>) after SIGKILL' when
    even that did not end it.

    grace: seconds to let a process that was already told to end another way (its FUSE mount
    unmounted) finish on its own first; a signal could cut its clean shutdown short.
    kill: what to do instead of SIGKILL to pid past timeout (a container's: podman kill), after
    which pid is given its own SIGKILL too."""
    if not is_alive(pid, marker) or pid in _protected():
        reap(pid)
        return "gone"
    if grace and _wait_gone(pid, grace):
        return "exited"
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout):
        return "stopped"
    if kill is not None:
        kill()
    _signal(pid, signal.SIGKILL)
    if _wait_gone(pid, 10.0):
        return "killed"
    return f"still running ({_status(pid)}) after SIGKILL"


def kill(pid, marker):
    """SIGKILL at once (a crash, as a test wants it). Returns once the process is gone."""
    if is_alive(pid, marker) and pid not in _protected():
        _signal(pid, signal.SIGKILL)
        if not _wait_gone(pid, 10.0):
            raise RuntimeError(f"process {pid} is still running ({_status(pid)}) 10s after SIGKILL")


def _status(pid):
    try:
        return psutil.Process(pid).status()
    except psutil.Error:
        return "gone"


def _wait_gone(pid, timeout):
    # Ownership was checked before signalling. From here, wait for the process itself to end: an
    # exiting process may drop its environment and command line before it closes its files, so
    # "mark gone" is too early (a mount it used would still be busy). A zombie has closed them.
    def probe():
        child = _CHILDREN.get(pid)
        gone = (child is not None and child.poll() is not None) or _status(pid) in ("gone", *GONE_STATES)
        if gone:
            reap(pid)
        return gone, f"process {pid} {_status(pid)}"

    try:
        wait_for(probe, what=f"process {pid} to end", timeout=timeout, interval=0.1)
    except WaitTimeout:
        return False
    return True
