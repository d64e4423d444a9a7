"""The existing-cluster target: a Ceph cluster the suite did not create, given by conf + keyring.

The run creates only uniquely named resources (S3 users, buckets, images, CephFS directories,
cephx users) and removes them; it changes nothing else on the cluster. While it lives it keeps a
heartbeat record on the cluster (cluster_runs), so that other runs can tell it is alive.
"""

import os
import time
from pathlib import Path

from .. import cluster_runs
from ..cleanup import sweep_cluster
from ..errors import CommandError, SetupError, Unsupported
from ..host import packages
from .base import Target
from .existing_sweep import cluster_kinds
from .host_clients import HostClients
from .host_clients.tools import HostCephTools


class ExistingTarget(HostClients, Target):
    name = "ceph"

    def preflight(self):
        o = self.options
        pkgs, programs = packages.missing("tools")
        if programs:
            raise SetupError(f"missing {', '.join(programs)}: install {' '.join(pkgs)} (`make deps`)")
        conf = Path(o.ceph_conf)
        if not conf.is_file():
            raise SetupError(f"--ceph-conf {conf}: no such file; give the cluster's ceph.conf")
        if o.ceph_keyring and not Path(o.ceph_keyring).is_file():
            raise SetupError(f"--ceph-keyring {o.ceph_keyring}: no such file; give an admin keyring")

    def bring_up(self, run_dir, progress):
        self.run_dir = Path(run_dir)
        client = self.client(timeout=30)
        try:
            fsid = client.ceph("fsid", timeout=30).strip()
        except CommandError as exc:
            raise SetupError(f"cannot reach the cluster of {self.options.ceph_conf}: {exc}") from None
        progress(f"connected to cluster {fsid}")
        run_dir = Path(run_dir)
        try:
            self._heartbeat = cluster_runs.Heartbeat(client, run_dir.name, cluster_runs.owner_of(run_dir)).start()
        except CommandError as exc:
            raise SetupError(f"cannot record the run on the cluster (config-key {cluster_runs.KEY_PREFIX}"
                             f"{run_dir.name}); the keyring needs admin caps: {exc}") from None
        self.description = {"ceph_conf": str(self.options.ceph_conf), "fsid": fsid,
                            "s3_endpoint": self.options.rgw_endpoint}
        return self.description

    def tear_down(self, run_dir, progress):
        """Safety net behind the fixtures: remove this run's resources, and those of dead runs."""
        t0 = time.monotonic()
        run_id = Path(run_dir).name
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat:
            heartbeat.stop()
        try:
            # One short probe: against a cluster that cannot be reached, each listing of the sweep
            # would wait out its own timeout for nothing.
            self.client(timeout=20).ceph("fsid")
        except CommandError as exc:
            progress(f"cannot reach the cluster to sweep ({exc}); anything named cconf-{run_id}-* may remain")
            return round(time.monotonic() - t0, 2)
        report = self.sweep(Path(run_dir) / "sweep", progress, own_run_id=run_id)
        if not report.ok:
            progress(f"the sweep left {len(report.failed)} resource(s) behind; "
                     "`python -m ceph_conformance sweep-cluster` retries")
        return round(time.monotonic() - t0, 2)

    def sweep(self, work_dir, progress, own_run_id=None, dry_run=False):
        client = self.client(timeout=60)
        return sweep_cluster(client, cluster_kinds(client, self.options.rbd_pool, work_dir,
                                                   self._sweepable_cephfs(progress)),
                             progress, own_run_id=own_run_id, dry_run=dry_run)

    def _sweepable_cephfs(self, progress):
        try:
            fs_name = self.cephfs_name()
        except (Unsupported, CommandError):
            return None
        if os.geteuid() != 0 or "ceph-fuse" in packages.missing("clients")[1]:
            progress("CephFS directories not swept: that needs root and ceph-fuse on this host")
            return None
        return fs_name

    def disruption_support(self):
        if not self.options.allow_disruptive:
            raise Unsupported("target ceph: the disruptive checks add OSDs and stop and purge a node; "
                              "pass --allow-disruptive to run them on this cluster")
        raise Unsupported("target ceph: cannot add or remove OSDs, since the suite has no access to the "
                          "cluster's hosts and disks; run the disruptive checks on the local target")

    def tools(self):
        return HostCephTools(self.options.ceph_conf, self.options.ceph_keyring)

    def s3_endpoint(self):
        if not self.options.rgw_endpoint:
            raise Unsupported("target ceph: no S3 endpoint configured (pass --rgw-endpoint URL)")
        return self.options.rgw_endpoint


