"""Removes everything of one run directory: processes, mounts, loop devices, files.

Used by teardown (release_clients before the ordered stop of the cluster, sweep_run_dir after
it) and by the sweep of leftovers from crashed runs. It only touches what points into the run
directory: processes whose command line names it, mounts below it, loop devices backed by files
in it (or, once their FUSE mount is gone, named with the run's prefix).
"""

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..commands import run
from ..errors import CommandError
from ..run import PREFIX
from . import loopdev, processes

MARKER = ".ceph-conformance-run"


def _mounts(directory):
    """(mountpoint, fstype) of mounts below directory, deepest first."""
    directory = os.path.realpath(directory)
    found = []
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            mountpoint = fields[1].replace("\\040", " ")
            if mountpoint.startswith(directory + os.sep):
                found.append((mountpoint, fields[2]))
    return sorted(found, key=lambda m: len(m[0]), reverse=True)


def mounts_under(directory):
    return [m for m, _ in _mounts(directory)]


# Layers, top down: an app holds files on a filesystem, which sits on a loop device, whose backing
# file an rbd-fuse client serves; ceph-fuse and rbd-fuse need the daemons; OSDs need their mon.
APPS = ("nginx", "mariadbd")
FUSE_CLIENTS = ("ceph-fuse", "rbd-fuse")
DAEMONS = ("radosgw", "ceph-mds", "ceph-osd", "ceph-mgr", "ceph-mon")


def stop_marked_processes(marker, kinds=None, timeout=10.0):
    """Stop processes whose command line names marker: those of the given kinds (in that order,
    each kind in parallel), or all. Returns descriptions of what was stopped."""
    by_kind = {}
    for pid in processes.pids_with_marker(marker):
        by_kind.setdefault(processes.command_name(pid), []).append(pid)
    order = list(kinds) if kinds is not None else [*APPS, *FUSE_CLIENTS, *DAEMONS, *by_kind]
    stopped, done = [], set()
    for kind in order:
        if kind in done or kind not in by_kind:
            continue
        done.add(kind)
        pids = by_kind[kind]
        with ThreadPoolExecutor(max_workers=len(pids)) as pool:
            list(pool.map(lambda pid: processes.stop(pid, marker, timeout), pids))
        stopped += [f"{kind} {pid}" for pid in pids]
    return stopped


def _unmount(mountpoint):
    try:
        clean = run(["umount", mountpoint], timeout=30, check=False).returncode == 0
    except CommandError:  # umount hung on a filesystem whose client does not answer
        clean = False
    if not clean:
        run(["umount", "-l", mountpoint], timeout=30, check=False)  # lazy: never blocks
    return f"mount {mountpoint}"


def release_clients(run_dir):
    """Everything of the run that uses the cluster as a client: apps, filesystems on RBD volumes,
    their loop devices, the FUSE clients. Must go before the daemons do."""
    marker = str(run_dir)
    removed = stop_marked_processes(marker, APPS)
    fuse = [m for m, fstype in _mounts(run_dir) if fstype.startswith("fuse")]
    removed += [_unmount(m) for m, fstype in _mounts(run_dir) if not fstype.startswith("fuse")]
    for device, backing in loopdev.attached_under(run_dir).items():
        if any(backing.startswith(m + os.sep) for m in fuse):
            loopdev.detach(device)
            removed.append(f"loop device {device}")
    removed += [_unmount(m) for m in fuse]
    removed += stop_marked_processes(marker, FUSE_CLIENTS)
    return removed


def sweep_run_dir(run_dir, remove=True):
    """Make sure nothing of run_dir is left. Returns what it had to remove (for the log)."""
    run_dir = Path(run_dir)
    removed = release_clients(run_dir)
    removed += stop_marked_processes(str(run_dir))
    removed += [_unmount(m) for m in mounts_under(run_dir)]
    for device in loopdev.attached_under(run_dir, name_prefix=f"{PREFIX}-{run_dir.name}-"):
        loopdev.detach(device)
        removed.append(f"loop device {device}")
    if remove and run_dir.exists():
        shutil.rmtree(run_dir, ignore_errors=True)
    return removed


def write_marker(run_dir, run_id, keep=False):
    # Keyrings and the secrets file live in the run dir: only its owner may enter it, and a new
    # run root is not writable by others (whatever the umask).
    Path(run_dir).parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    Path(run_dir).mkdir(mode=0o700, exist_ok=True)
    Path(run_dir).chmod(0o700)
    owner = {"run_id": run_id, "pid": os.getpid(), "start_ticks": _start_ticks(os.getpid()), "kept": keep}
    (Path(run_dir) / MARKER).write_text(json.dumps(owner))


def mark_kept(run_dir):
    path = Path(run_dir) / MARKER
    owner = json.loads(path.read_text())
    owner["kept"] = True
    path.write_text(json.dumps(owner))


def _start_ticks(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2 :].split()[19])


def _owner_alive(owner):
    pid = owner.get("pid")
    return bool(pid) and _start_ticks(pid) == owner.get("start_ticks")


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
