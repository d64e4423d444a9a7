"""A suite run's CephFS clients as this host sees them, and a break that makes one client's view differ.

On host targets each client of a module is its own ceph-fuse mount,
<run>/clients/<scope>/mnt/client.<run name>-fs-<n>, made in the order the fixtures ask for them:
client a (the one an app starts on) first, then client b. Over one path of one client's mount a
test can bind another file or directory: that client (and an app running on it) then reads what
was bound there, while the other client and the cluster keep the real data. Removing the bind
mount heals it.
"""

import re
from pathlib import Path

from ceph_conformance.commands import run
from ceph_conformance.host.mounts import unmount

_CLIENT = re.compile(r"^client\..*-fs-(\d+)$")


def client_mounts(run_dir):
    """The run's CephFS client mounts in the order they were made: [a, b] for an app module."""
    found = [(int(m.group(1)), p) for p in Path(run_dir).glob("clients/*/mnt/client.*")
             if (m := _CLIENT.match(p.name))]
    mounts = [p for _, p in sorted(found)]
    assert len(mounts) == 2, f"expected the module's two CephFS client mounts under {run_dir}/clients, " \
                             f"found {[str(p) for p in mounts]}"
    return mounts


def only(paths, what):
    paths = sorted(paths)
    assert len(paths) == 1, f"expected one {what}, found {[str(p) for p in paths] or 'none'}"
    return paths[0]


class Overmount:
    """Bind source over target (a file or directory in one client's mount) until heal()."""

    def __init__(self):
        self.target = None

    def bind(self, source, target):
        run(["mount", "--bind", str(source), str(target)], timeout=30)
        self.target = target

    def heal(self):
        if self.target is not None:
            unmount(self.target, busy_timeout=30, lazy=True)
            self.target = None
