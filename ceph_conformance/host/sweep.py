"""Removes everything of one run directory: processes, mounts, loop devices, files.

Used by teardown (release_clients before the ordered stop of the cluster, sweep_run_dir after
it) and by the sweep of leftovers from crashed runs. It only touches what belongs to the run
directory: processes carrying its mark (host/processes.py), mounts below it, loop devices backed by
files in it (or, once their FUSE mount is gone, named with the run's prefix). It never removes a
tree that still has something mounted inside it.
"""

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from ..run import PREFIX
from . import containers, loopdev, processes
from .mounts import is_mounted, mounts_under, mounts_with_type, unmount

MARKER = ".ceph-conformance-run"

# Layers, top down: an app holds files on a filesystem, which sits on a loop device, whose backing
# file an rbd-fuse client serves; ceph-fuse and rbd-fuse need the daemons; OSDs need their mon.
APPS = ("nginx", "mariadbd", "registry")
FUSE_CLIENTS = ("ceph-fuse", "rbd-fuse")
DAEMONS = ("radosgw", "ceph-mds", "ceph-osd", "ceph-mgr", "ceph-mon")


def stop_marked_processes(marker, kinds=None, timeout=10.0):
    """Stop the processes of marker (a run directory): those of the given kinds (in that order,
    each kind in parallel), or all. Returns what was done, e.g. "ceph-osd 123 (killed)"."""
    by_kind = {}
    for pid in processes.pids_with_marker(marker):
        by_kind.setdefault(processes.command_name(pid), []).append(pid)
    order = list(kinds) if kinds is not None else [*APPS, *FUSE_CLIENTS, *DAEMONS, *by_kind]
    done_kinds, report = set(), []
    for kind in order:
        if kind in done_kinds or kind not in by_kind:
            continue
        done_kinds.add(kind)
        pids = by_kind[kind]
        with ThreadPoolExecutor(max_workers=len(pids)) as pool:
            outcomes = list(pool.map(lambda pid: processes.stop(pid, marker, timeout), pids))
        report += [f"{kind} {pid} ({outcome})" for pid, outcome in zip(pids, outcomes, strict=True)]
    return report


def _unmount(mountpoint):
    return f"mount {mountpoint} ({unmount(mountpoint)})"


def _detach(device):
    try:
        loopdev.detach(device)
    except loopdev.DetachError as exc:
        return f"could not detach loop device {device}: {exc}"
    return f"loop device {device}"


def release_clients(run_dir):
    """Everything of the run that uses the cluster as a client: apps, filesystems on RBD volumes,
    their loop devices, the FUSE clients. Must go before the daemons do."""
    marker = str(run_dir)
    removed = stop_marked_processes(marker, APPS)
    fuse = [m for m, fstype in mounts_with_type(run_dir) if fstype.startswith("fuse")]
    removed += [_unmount(m) for m, fstype in mounts_with_type(run_dir) if not fstype.startswith("fuse")]
    for device, backing in loopdev.attached_under(run_dir).items():
        if any(backing.startswith(m + os.sep) for m in fuse):
            removed.append(_detach(device))
    removed += [_unmount(m) for m in fuse]
    removed += stop_marked_processes(marker, FUSE_CLIENTS)
    removed += containers.remove_owned(marker, role="client")  # FUSE clients run from a --ceph-image
    return removed


def remove_tree(directory):
    """Remove directory, unless something is still mounted inside it: a failed unmount must never
    turn into a recursive delete of a mounted filesystem (a CephFS, a volume). Returns None, or why
    the tree was left."""
    directory = Path(directory)
    if not directory.exists():
        return None
    mounted = mounts_under(directory)
    if mounted:
        return f"left {directory}: {', '.join(mounted)} still mounted inside it"
    # The mount table can miss a mount made in another namespace: a directory on another device is one.
    device = directory.stat().st_dev
    for root, dirs, _ in os.walk(directory):
        for name in dirs:
            if os.lstat(os.path.join(root, name)).st_dev != device:
                return f"left {directory}: {os.path.join(root, name)} is another filesystem"
    shutil.rmtree(directory, ignore_errors=True)
    return None if not directory.exists() else f"left {directory}: some files could not be removed"


def sweep_run_dir(run_dir, remove=True):
    """Make sure nothing of run_dir is left. Returns what it had to remove, and what it could not."""
    run_dir = Path(run_dir)
    removed = release_clients(run_dir)
    removed += stop_marked_processes(str(run_dir))
    removed += containers.remove_owned(run_dir)  # daemons and tools of a --ceph-image run
    removed += [_unmount(m) for m in mounts_under(run_dir)]
    if is_mounted(run_dir):  # the shared bind onto itself that containers' mounts propagate through
        removed.append(_unmount(str(run_dir)))
    for device in loopdev.attached_under(run_dir, name_prefix=f"{PREFIX}-{run_dir.name}-"):
        removed.append(_detach(device))
    removed += [f"loop device {d} (added by the run, removed)" for d in loopdev.remove_unused_added(run_dir)]
    if remove:
        left = remove_tree(run_dir)
        if left:
            removed.append(left)
    return removed


def write_marker(run_dir, run_id, keep=False):
    # Keyrings and the secrets file live in the run dir: only its owner may enter it, and a new
    # run root is not writable by others (whatever the umask).
    Path(run_dir).parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    Path(run_dir).mkdir(mode=0o700, exist_ok=True)
    Path(run_dir).chmod(0o700)
    me = psutil.Process()
    owner = {"run_id": run_id, "pid": me.pid, "create_time": me.create_time(), "kept": keep}
    (Path(run_dir) / MARKER).write_text(json.dumps(owner))


def mark_kept(run_dir):
    path = Path(run_dir) / MARKER
    owner = json.loads(path.read_text())
    owner["kept"] = True
    path.write_text(json.dumps(owner))


def _owner_alive(owner):
    try:
        return psutil.Process(owner["pid"]).create_time() == owner.get("create_time")
    except (KeyError, TypeError, psutil.Error):
        return False


def stale_runs(run_root, include_kept=False):
    """Run directories under run_root whose owning pytest process is gone."""
    root = Path(run_root)
    if not root.is_dir():
        return []
    stale = []
    for marker in sorted(root.glob(f"*/{MARKER}")):
        try:
            owner = json.loads(marker.read_text())
        except (OSError, ValueError):
            owner = {}
        if _owner_alive(owner):
            continue
        if owner.get("kept") and not include_kept:
            continue
        stale.append(marker.parent)
    return stale


def sweep_stale(run_root, include_kept=False, stop_in_order=None):
    """Sweep leftovers of crashed runs. Returns {run_dir: [what was removed]}.

    stop_in_order(run_dir) may stop a run's daemons in dependency order first (mon last)."""
    report = {}
    for run_dir in stale_runs(run_root, include_kept):
        t0 = time.monotonic()
        released = release_clients(run_dir)
        stopped = stop_in_order(run_dir) if stop_in_order else []
        report[str(run_dir)] = released + stopped + sweep_run_dir(run_dir) or ["files only"]
        report[str(run_dir)].append(f"{time.monotonic() - t0:.1f}s")
    return report
