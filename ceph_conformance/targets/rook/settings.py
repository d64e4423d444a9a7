"""What the Rook layer deploys, as one set of values: the generators turn it into manifests."""

import re
from dataclasses import dataclass, field

from .labels import base_name
from .release import DEFAULT_VERSION, parse_version

DEFAULT_CEPH_IMAGE = "quay.io/ceph/ceph:v20.2.4"  # Rook v1.20.6's default Ceph (Tentacle)
# Another release's default Ceph (its deploy/examples/cluster.yaml), where it cannot run the newest.
DEFAULT_CEPH_IMAGES = {(1, 12): "quay.io/ceph/ceph:v17.2.6"}
DEFAULT_MYSQL_IMAGE = "docker.io/library/mysql:8.4"
DEFAULT_MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"
DEFAULT_GHOST_IMAGE = "docker.io/library/ghost:5-alpine"


@dataclass
class RookSettings:
    run_id: str
    # node name -> the OSD devices on it, by path (/dev/loop20): Rook uses loop devices only when
    # they are listed by name, and listing every device keeps the suite off disks it must not touch.
    nodes: dict = field(default_factory=dict)
    namespace: str = "rook-ceph"  # where the CephCluster (and its run-named resources) live
    operator_namespace: str = "rook-ceph"
    ceph_image: str = DEFAULT_CEPH_IMAGE
    mon_count: int = 3
    mgr_count: int = 1
    pool_size: int = 2
    mute_health: list = field(default_factory=list)  # codes the gate accepts, listed in the report
    mon_data_avail_warn: int = 10  # small test disks fill up: warn only when almost full
    osd_memory_target: int = 1024 * 1024 * 1024
    cephfs_client_type: str = "kernel"  # or "fuse" where the nodes' kernel has no ceph module
    fs_clients: int = 2  # pods mounting the shared PVC, for the multi-client checks
    block_size_gib: int = 4
    shared_size_gib: int = 4
    s3_node_port: int | None = None  # None: Kubernetes picks one
    mysql_image: str = DEFAULT_MYSQL_IMAGE
    minio_image: str = DEFAULT_MINIO_IMAGE
    ghost_image: str = DEFAULT_GHOST_IMAGE
    rook_version: str = DEFAULT_VERSION  # the release whose manifests and CRDs the generators write for
    # The operator's image: None keeps the release's (docker.io/rook/ceph:vX); a machine without a
    # registry gives the one it built (targets/rook/image.py).
    operator_image: str | None = None
    # imagePullPolicy of the operator, the toolbox and the Ceph daemons: None keeps the release's.
    # "Never" where nothing may be pulled (the test bed): a missing image is then ErrImageNeverPull.
    image_pull_policy: str | None = None
    # Rook's CSI drivers (releases before 1.18 only: their operator deploys ceph-csi itself). Off where
    # no ceph-csi image exists: the operator then creates no CSI pods, and no PVC can bind.
    csi: bool = True
    # Where this host reaches the NodePorts (S3, the apps) when the nodes' InternalIPs are not
    # reachable from it (the test bed's nodes are loopback addresses inside its network namespace).
    node_address: str | None = None
    # Rook's dataDirHostPath on every node (mon stores, keyrings, crash dirs). The test bed's nodes
    # share this host's filesystem, so a bed gives one in its own directory: it goes with the bed,
    # and a later cluster never finds an earlier one's mon stores there.
    data_dir_host_path: str = "/var/lib/rook"
    # Ceph settings given with --ceph-config (OPTION: value), after the small-cluster ones: e.g. the
    # absolute osd_class_dir that Debian's build leaves relative (the test bed's images).
    extra_ceph_config: dict = field(default_factory=dict)

    @property
    def name(self):
        return base_name(self.run_id)

    @property
    def rook_release(self):
        """(major, minor) of the Rook release: what the generators' choices depend on."""
        return parse_version(self.rook_version)[:2]

    @property
    def apps_namespace(self):
        """The run's own namespace: PVCs, apps, client pods, bucket claims. Deleting it removes them."""
        return self.name

    @property
    def cluster_name(self):
        return self.name

    @property
    def pool(self):
        return f"{self.name}-rbd"

    @property
    def filesystem(self):
        return f"{self.name}-fs"

    @property
    def object_store(self):
        return f"{self.name}-s3"

    @property
    def toolbox(self):
        return f"{self.name}-tools"

    def storage_class(self, kind):
        return f"{self.name}-{kind}"

    @property
    def osd_count(self):
        return sum(len(devices) for devices in self.nodes.values())

    def cluster_settings(self):
        """What the run configures on Ceph, for the report (every mute listed)."""
        return {"ceph_config": ceph_config(self), "mute_health": sorted(self.mute_health),
                "mons": self.mon_count, "mgrs": self.mgr_count, "pool_size": self.pool_size,
                "osds": {node: list(devs) for node, devs in sorted(self.nodes.items())}}


def default_ceph_image(rook_version):
    """The Ceph image a Rook release deploys when --ceph-image does not say."""
    return DEFAULT_CEPH_IMAGES.get(parse_version(rook_version)[:2], DEFAULT_CEPH_IMAGE)


def ceph_config(s):
    """cephConfig.global of the CephCluster: what keeps a small test cluster HEALTH_OK."""
    conf = {
        "osd_pool_default_size": str(s.pool_size),
        "osd_pool_default_min_size": str(max(1, s.pool_size - 1)),
        "mon_data_avail_warn": str(s.mon_data_avail_warn),
        "auth_allow_insecure_global_id_reclaim": "false",
        "osd_memory_target": str(s.osd_memory_target),
        "bdev_flock_retry": "20",  # loop devices are briefly held by udev after attach
        "bluefs_buffered_io": "false",
    }
    if s.pool_size == 1:
        conf["mon_warn_on_pool_no_redundancy"] = "false"
    conf.update(s.extra_ceph_config)
    return conf


_CEPH_OPTION = re.compile(r"^([a-z][a-z0-9_]*)=(\S.*)$")


def parse_ceph_config(specs):
    """{option: value} of OPTION=VALUE values; ValueError naming a malformed one."""
    conf = {}
    for spec in specs:
        m = _CEPH_OPTION.match(spec)
        if not m:
            raise ValueError(f"--ceph-config {spec}: give OPTION=VALUE, e.g. osd_class_dir=/usr/lib/ceph/rados-classes")
        conf[m.group(1)] = m.group(2)
    return conf


_DEVICE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(/dev/\S+)$")


def parse_osd_devices(specs):
    """{node: [device, ...]} of NODE:/dev/X values; ValueError naming a malformed one."""
    nodes = {}
    for spec in specs:
        m = _DEVICE.match(spec)
        if not m:
            raise ValueError(f"--osd-device {spec}: give NODE:/dev/DEVICE, the node as Kubernetes names it "
                             "(kubectl get nodes)")
        if m.group(3) in nodes.get(m.group(1), []):
            raise ValueError(f"--osd-device {spec}: given twice")
        nodes.setdefault(m.group(1), []).append(m.group(3))
    return nodes
