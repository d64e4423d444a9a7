"""The data plane from this host: Ceph's tools as subprocesses, RBD volumes through rbd-fuse, a
loop device and XFS with the distribution's MariaDB, CephFS through ceph-fuse with programs as
host processes, nginx for the web app, S3 users through radosgw-admin.

The local and existing-cluster targets reach their cluster from this host, so both offer the
capabilities of dataplane/ this way; the Kubernetes targets offer PVCs and pods instead.
"""

import os
from pathlib import Path

from ...errors import SetupError, Unsupported
from ...host import packages


class HostClients:
    """Mixin for targets whose cluster this host can reach with Ceph's client tools. The target
    sets run_dir (bring_up, attach); clients keep their files under run_dir/clients/<scope>."""

    run_dir = None

    def clients_dir(self, scope):
        return Path(self.run_dir) / "clients" / scope

    def log_files(self, run_dir):
        """Besides the target's own: the log of every MinIO a check ran (minio.py), masked as all are."""
        files = super().log_files(run_dir)
        for path in sorted(Path(run_dir).glob("clients/*/minio-*/minio.log")):
            files[f"minio/{path.parent.parent.name}-{path.parent.name}.log"] = path
        return files

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

    def rbd_pool(self):
        pool = self.options.rbd_pool
        if pool not in self.client().ceph_json("osd", "pool", "ls"):
            raise Unsupported(f"target {self.name}: no pool {pool} for RBD images (pass --rbd-pool NAME)")
        return pool

    def object_store(self):
        from .objectstore import RgwObjectStore

        return RgwObjectStore(self.client(), self.s3_endpoint())

    def block_storage(self, scope, namer):
        from .block import HostBlockStorage
        from .mariadb import DatadirTemplate

        self._need_host_tools()
        # One template datadir for the run's databases, whichever scope or process makes them.
        return HostBlockStorage(self.client(), self.rbd_pool(), self.clients_dir(scope), namer,
                                op_timeout=self.options.op_timeout,
                                datadir_template=DatadirTemplate(self.clients_dir("mariadb-template")))

    def shared_filesystem(self, scope, namer, directory=None):
        from .sharedfs import HostSharedFilesystem

        self._need_host_tools()
        return HostSharedFilesystem(self.client(), self.cephfs_name(), self.clients_dir(scope), namer, directory)
