"""Mounts of a run on this host: listed from the kernel's table, and unmounted one way everywhere."""

import os

import psutil

from ..commands import run
from ..errors import CommandError
from ..waits import WaitTimeout, wait_for


class UnmountError(RuntimeError):
    """A mount stayed: umount kept failing (busy) and a lazy unmount was not allowed."""


def mounts_with_type(directory):
    """(mountpoint, fstype) of mounts below directory, deepest first."""
    directory = os.path.realpath(directory)
    found = [(p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=True)
             if p.mountpoint.startswith(directory + os.sep)]
    return sorted(found, key=lambda m: len(m[0]), reverse=True)


def mounts_under(directory):
    return [m for m, _ in mounts_with_type(directory)]


def is_mounted(path):
    path = os.path.realpath(path)
    return any(p.mountpoint == path for p in psutil.disk_partitions(all=True))


def make_shared(directory):
    """Bind directory onto itself as a shared mount, once: mounts that containers make in a directory
    below it bound with rshared propagation then show on this host (whose / is private here).
    sweep_run_dir unmounts it after everything below."""
    from filelock import FileLock

    directory = os.path.realpath(directory)
    with FileLock(os.path.join(directory, ".shared-mount.lock")):
        if is_mounted(directory):
            return False
        run(["mount", "--bind", directory, directory], timeout=30)
        run(["mount", "--make-rshared", directory], timeout=30)
    return True


def unmount(mountpoint, busy_timeout=30.0, lazy=True):
    """Unmount, retrying while the mount is busy (a process that just ended may still hold it).

    If umount itself hangs (a FUSE client that no longer answers) or the mount stays busy past
    busy_timeout, detach it lazily when lazy is allowed, else raise UnmountError. Returns how it
    went: "unmounted", "lazily unmounted" or "not mounted"."""
    if not is_mounted(mountpoint):
        return "not mounted"
    hung = []

    def attempt():
        try:
            result = run(["umount", mountpoint], timeout=30, check=False)
        except CommandError as exc:  # umount itself hung: retrying would hang again
            hung.append(str(exc))
            return True, "umount hung"
        said = (result.stderr or result.stdout).strip()
        return result.returncode == 0 or not is_mounted(mountpoint), said or "still mounted"

    try:
        wait_for(attempt, what=f"unmounting {mountpoint}", timeout=busy_timeout, interval=0.5)
        problem = hung[0] if hung else None
    except WaitTimeout as exc:
        problem = str(exc)
    if problem is None:
        return "unmounted"
    if not lazy:
        raise UnmountError(f"could not unmount {mountpoint}: {problem}")
    run(["umount", "-l", mountpoint], timeout=30, check=False)  # lazy: never blocks
    return "lazily unmounted"
