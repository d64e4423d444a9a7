"""A pytest plugin for a suite run: every RBD volume the host block storage attaches goes through
a write-back cache that acknowledges flushes without writing (lying_cache_fs.py), placed at
RbdVolume's storage-layer seam. With it, a crash must lose committed transactions, and the
crash check must say so."""

import sys
from pathlib import Path

from ceph_conformance.host import processes
from ceph_conformance.host.mounts import is_mounted, unmount
from ceph_conformance.targets.host_clients.rbd import RbdVolume
from ceph_conformance.waits import wait_for

PROGRAM = Path(__file__).with_name("lying_cache_fs.py")


class LyingCacheLayer:
    direct_io = False  # the loop device goes through the FUSE file's page cache, and its flushes to us

    def __init__(self, volume, image_file):
        self.mountpoint = volume.work_dir / "lying-cache"
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self.pid = processes.start([sys.executable, PROGRAM, image_file, self.mountpoint],
                                   volume.work_dir / "lying-cache.log", self.mountpoint)

        def mounted():
            if not processes.is_alive(self.pid, str(self.mountpoint)):
                raise RuntimeError((volume.work_dir / "lying-cache.log").read_text()[-500:])
            return is_mounted(self.mountpoint), f"{self.mountpoint} not mounted yet"

        wait_for(mounted, what=f"the lying cache in front of {volume.spec}", timeout=30, interval=0.2)
        self.path = self.mountpoint / "image"

    def kill(self):
        processes.kill(self.pid, str(self.mountpoint))

    def stop(self):
        unmount(self.mountpoint, busy_timeout=30, lazy=True)
        processes.stop(self.pid, str(self.mountpoint), timeout=30, grace=20)


def pytest_configure(config):
    RbdVolume.block_layer = LyingCacheLayer
