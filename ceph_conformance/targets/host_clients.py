"""Block volumes and CephFS mounts made on this host with FUSE tools.

The local and existing-cluster targets reach the cluster from this host, so both offer these
capabilities the same way; the Kubernetes targets will offer PVCs and pods instead.
"""

import os

from ..clients.block import RbdVolume
from ..clients.cephfs import SharedFilesystem
from ..errors import SetupError, Unsupported
from ..host import packages


class HostClients:
    """Mixin for targets whose cluster this host can reach with Ceph's client tools."""

    def _need_host_tools(self):
        if os.geteuid() != 0:
            raise SetupError("block and CephFS checks attach loop devices and mount FUSE filesystems on this "
                             "host: run as root, or deselect them with -m 'not block and not sharedfs'")
        pkgs, programs = packages.missing("clients")
        if programs:
            raise SetupError(f"missing client tools {', '.join(programs)}: install {' '.join(pkgs)} (`make deps`)")

    def cephfs_name(self):
        names = [fs["name"] for fs in self.client().ceph_json("fs", "ls")]
        wanted = self.options.cephfs
        if wanted and wanted not in names:
            raise Unsupported(f"target {self.name}: no CephFS filesystem named {wanted} (have: {names or 'none'})")
        if not names:
            raise Unsupported(f"target {self.name}: the cluster has no CephFS filesystem")
        return wanted or names[0]

    def shared_filesystem(self, work_dir, namer, directory=None):
        """CephFS clients confined to one directory of the run: a new one, or `directory` (made by an
        earlier SharedFilesystem of the run that released it)."""
        self._need_host_tools()
        return SharedFilesystem(self.client(), self.cephfs_name(), work_dir, namer, directory)

    def rbd_pool(self):
        pool = self.options.rbd_pool
        if pool not in self.client().ceph_json("osd", "pool", "ls"):
            raise Unsupported(f"target {self.name}: no pool {pool} for RBD images (pass --rbd-pool NAME)")
        return pool

    def block_volume(self, work_dir, image):
        self._need_host_tools()
        return RbdVolume(self.client(), self.rbd_pool(), image, work_dir)
