"""The existing-cluster target: a Ceph cluster the suite did not create, given by conf + keyring.

The run creates only uniquely named resources (S3 users, buckets, later pools and images) and
removes them; it changes nothing else on the cluster.
"""

import time
from pathlib import Path

from ..ceph_client import CephClient
from ..cleanup import sweep_run_resources
from ..errors import CommandError, SetupError, Unsupported
from ..host import packages
from ..run import PREFIX
from .base import Target
from .host_clients import HostClients


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
        client = self.client(timeout=30)
        try:
            fsid = client.ceph("fsid", timeout=30).strip()
        except CommandError as exc:
            raise SetupError(f"cannot reach the cluster of {self.options.ceph_conf}: {exc}") from None
        progress(f"connected to cluster {fsid}")
        self.description = {"ceph_conf": str(self.options.ceph_conf), "fsid": fsid,
                            "s3_endpoint": self.options.rgw_endpoint}
        return self.description

    def tear_down(self, run_dir, progress):
        """Safety net behind the fixtures: remove anything of this run still on the cluster."""
        t0 = time.monotonic()
        prefix = f"{PREFIX}-{Path(run_dir).name}-"
        try:
            # One short probe: against a cluster that cannot be reached, each listing of the sweep
            # would wait out its own timeout for nothing.
            self.client(timeout=20).ceph("fsid")
        except CommandError as exc:
            progress(f"cannot reach the cluster to sweep ({exc}); anything named {prefix}* may remain")
            return round(time.monotonic() - t0, 2)
        sweep_run_resources(self.client(timeout=60), prefix, self.options.rbd_pool, Path(run_dir) / "sweep",
                            progress)
        return round(time.monotonic() - t0, 2)

    def disruption_support(self):
        if not self.options.allow_disruptive:
            raise Unsupported("target ceph: the disruptive checks add OSDs and stop and purge a node; "
                              "pass --allow-disruptive to run them on this cluster")
        raise Unsupported("target ceph: cannot add or remove OSDs, since the suite has no access to the "
                          "cluster's hosts and disks; run the disruptive checks on the local target")

    def client(self, timeout=60.0):
        return CephClient(self.options.ceph_conf, self.options.ceph_keyring, timeout=timeout)

    def s3_endpoint(self):
        if not self.options.rgw_endpoint:
            raise Unsupported("target ceph: no S3 endpoint configured (pass --rgw-endpoint URL)")
        return self.options.rgw_endpoint


