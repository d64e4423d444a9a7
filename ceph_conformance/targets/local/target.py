"""The embedded default target: a throwaway cluster of real daemons on this host."""

import os
import shutil
from pathlib import Path

from ...errors import SetupError
from ...host import loopdev, packages
from ...host.ports import port_in_use
from ...payload import GiB
from ..base import Target
from ..host_clients import HostClients
from ..runner import sweep_stale
from .cluster import LocalCluster, LocalSpec, stop_run_dir_in_order
from .containers import image_error


class LocalTarget(HostClients, Target):
    name = "local"

    def __init__(self, options):
        super().__init__(options)
        self.cluster = None
        self.cluster_dir = None

    def spec(self):
        o = self.options
        return LocalSpec(nodes=o.nodes, osds_per_node=o.osds_per_node, osd_size_gib=o.osd_size_gib, rgw_port=o.rgw_port,
                         ceph_image=o.ceph_image)

    def preflight(self):
        if os.geteuid() != 0:
            raise SetupError(
                "target local needs root (it attaches loop devices and starts Ceph daemons): "
                "run as root, or test an existing cluster with --target ceph --ceph-conf PATH"
            )
        if self.options.ceph_image:
            self._preflight_image(self.options.ceph_image)
        pkgs, programs = packages.missing("images") if self.options.ceph_image else packages.missing("cluster", "tools")
        if programs:
            raise SetupError(
                f"missing {', '.join(programs)}: install the Ceph packages (`make deps`, or apt-get install "
                f"{' '.join(pkgs)})"
            )
        if not loopdev.free_device_available():
            raise SetupError(
                "no free loop device (losetup --find found none and /dev/loop-control cannot add one): "
                "detach unused ones with `losetup -d` or run where the loop module is available"
            )
        if self.options.rgw_port and port_in_use(self.options.rgw_port):
            raise SetupError(
                f"port {self.options.rgw_port} on 127.0.0.1 is in use: free it or pick another with --rgw-port"
            )
        root = Path(self.options.run_root)
        root.mkdir(parents=True, exist_ok=True)
        free_gib = shutil.disk_usage(root).free / GiB
        need = (self.options.nodes * self.options.osds_per_node + 2) * 1.0 + 1  # +2: the scale-out OSDs
        if free_gib < need:
            raise SetupError(
                f"only {free_gib:.1f} GiB free under {root}: the cluster needs about {need:.0f} GiB; "
                "free space or point --run-root elsewhere"
            )

    @staticmethod
    def _preflight_image(image):
        if shutil.which("podman") is None:
            raise SetupError(f"--ceph-image {image}: the daemons run in containers with podman, which is missing: "
                             "`make deps` (Debian package podman)")
        problem = image_error(image)
        if problem:
            raise SetupError(problem)

    def bring_up(self, run_dir, progress):
        self.run_dir = Path(run_dir)
        self.cluster_dir = Path(run_dir) / "cluster"
        self.cluster = LocalCluster(self.cluster_dir)
        self.cluster.bring_up(self.spec(), progress)
        self.description = self.cluster.describe()
        return self.description

    def attach(self, run_dir, description):
        super().attach(run_dir, description)
        self.cluster_dir = Path(run_dir) / "cluster"
        self.cluster = LocalCluster(self.cluster_dir)

    def tear_down(self, run_dir, progress):
        cluster = self.cluster or LocalCluster(Path(run_dir) / "cluster")
        if not cluster.state_path.exists():
            return 0.0
        return cluster.tear_down(progress, remove_dir=False)

    def tools(self):
        return self.cluster.tools()

    def s3_endpoint(self):
        return self.cluster.rgw_endpoint

    def log_files(self, run_dir):
        """The daemons' logs and console output besides the run's progress log."""
        files = super().log_files(run_dir)
        log_dir = Path(run_dir) / "cluster" / "log"
        for path in sorted(log_dir.glob("*")) if log_dir.is_dir() else ():
            if path.is_file() and path.suffix in (".log", ".stdout"):
                files[f"cluster/{path.name}"] = path
        return files

    def resource_usage(self):
        cluster = self.cluster or LocalCluster(self.cluster_dir)
        return {"daemon_rss_mib": cluster.daemon_rss_mib()} if cluster.state_path.exists() else {}

    # -- the cluster's shape -------------------------------------------------------------------
    def _cluster(self):
        # Reread the state: another process of the run may have changed the cluster.
        self.cluster = LocalCluster(self.cluster_dir)
        return self.cluster

    def disruption_support(self):
        return None  # a throwaway cluster of this run: all of it may be changed

    def scale_out_plan(self, hosts):
        size = int(self.options.osd_size_gib * GiB)
        n = len(hosts) + 1
        while f"node{n}" in hosts:
            n += 1
        return [(f"node{n}", size), (sorted(hosts)[0], size)]

    def add_osds(self, placements, progress=print):
        sizes = {size for _, size in placements}
        assert len(sizes) == 1, f"one OSD size per call: {placements}"
        return [int(i) for i in self._cluster().add_osds([host for host, _ in placements], sizes.pop() / GiB,
                                                         progress)]

    def fail_node(self, host):
        return self._cluster().kill_node(host)

    def remove_node(self, host, progress=print):
        self._cluster().remove_node(host, progress)

    def sweep_crashed_runs(self, run_root, progress):
        # Daemons of a crashed run are stopped in their order (OSDs before mons), as at teardown.
        for run_dir, removed in sweep_stale(run_root, stop_in_order=stop_run_dir_in_order).items():
            progress(f"swept leftovers of an earlier run {run_dir}: {', '.join(removed)}")

    def keep_instructions(self, run_dir):
        c = self.cluster
        return [
            f"cluster kept: ceph -c {c.conf} -k {c.keyring('client.admin')} status",
            f"S3 endpoint: {c.rgw_endpoint} (create a user with radosgw-admin -c {c.conf} -k "
            f"{c.keyring('client.admin')} user create ...)",
            f"tear it down: .venv/bin/python -m ceph_conformance sweep --include-kept {run_dir}",
        ]
