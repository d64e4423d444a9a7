"""Command-line options of the suite, validated into one RunOptions (config from one place)."""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .errors import SetupError
from .targets import KUBERNETES, PLANNED, TARGETS
from .targets.rook.release import DEFAULT_VERSION as ROOK_VERSION
from .targets.rook.release import has_csi_operator
from .targets.rook.settings import DEFAULT_CEPH_IMAGE, parse_ceph_config, parse_osd_devices

PYTEST_KIND_PLUGIN = "pytest-kind-ng"
# Options pytest-kind-ng's plugin also adds, with the same meaning (a flag; a path).
SHARED_WITH_PYTEST_KIND = ("--keep-cluster", "--kubeconfig")


class OptionError(ValueError):
    """Bad input: one line saying what is wrong and what to do."""


@dataclass
class RunOptions:
    target: str = "local"
    ceph_conf: str | None = None
    ceph_keyring: str | None = None
    rgw_endpoint: str | None = None
    cephfs: str | None = None
    rbd_pool: str = "rbd"
    io_timeout: float = 180.0
    nodes: int = 4
    osds_per_node: int = 1
    osd_size_gib: float = 6.0
    rgw_port: int = 0
    gate_timeout: float = 300.0
    gate_stall_window: float = 60.0
    op_timeout: float = 60.0
    recovery_timeout: float = 600.0
    allow_disruptive: bool = False
    mute_health: list = field(default_factory=list)
    keep_cluster: bool = False
    run_root: str = "/var/tmp/ceph-conformance"
    report_dir: str = "reports"
    # The Kubernetes targets (kind, vagrant, kubeconfig) and their Rook layer.
    kubeconfig: str | None = None
    context: str | None = None
    rook_namespace: str | None = None
    deploy_rook: bool = False
    osd_devices: list = field(default_factory=list)  # "NODE:/dev/sdX" for --deploy-rook on a kubeconfig
    rook_version: str = ROOK_VERSION
    rook_manifests: str | None = None
    ceph_image: str | None = None  # local: None runs the host's packages; Rook: DEFAULT_CEPH_IMAGE
    cephfs_client: str = "kernel"
    rook_timeout: float = 1200.0
    allow_unsupported_kubernetes: bool = False
    node_address: str | None = None  # Rook targets: where this host reaches NodePorts (default a node's InternalIP)
    rook_data_dir: str = "/var/lib/rook"  # Rook targets: the CephCluster's dataDirHostPath
    ceph_config: list = field(default_factory=list)  # --deploy-rook: OPTION=VALUE Ceph settings for its daemons
    rook_operator_image: str | None = None  # None: the release's own (docker.io/rook/ceph:vX)
    image_pull_policy: str | None = None  # None: as Rook's manifests say
    rook_csi: bool = True
    kind_node_image: str | None = None
    vagrant_provider: str = "libvirt"


def add_options(parser):
    g = parser.getgroup("ceph-conformance", "Ceph conformance suite")
    g.addoption("--target", default="local",
                help="where the cluster comes from: local (default, real daemons on this host), ceph (an existing "
                     "cluster, with --ceph-conf), kind, vagrant or kubeconfig (Rook on Kubernetes)")
    g.addoption("--ceph-conf", default=None, help="ceph.conf of an existing cluster (--target ceph)")
    g.addoption("--ceph-keyring", default=None, help="admin keyring of an existing cluster (--target ceph)")
    g.addoption("--rgw-endpoint", default=None, help="S3 endpoint URL of an existing cluster (--target ceph)")
    g.addoption("--cephfs", default=None, help="CephFS filesystem for the sharedfs checks (default: the first)")
    g.addoption("--rbd-pool", default="rbd", help="pool for the block checks' RBD images (default rbd)")
    g.addoption("--io-timeout", type=float, default=180.0,
                help="bound of each block and shared-filesystem check: blocked I/O fails it (default 180 s)")
    g.addoption("--nodes", type=int, default=4,
                help="local target: CRUSH hosts (default 4: pools keep 3 copies, and node removal needs 3 left)")
    g.addoption("--osds-per-node", type=int, default=1, help="local target: OSDs per host (default 1)")
    g.addoption("--osd-size-gib", type=float, default=6.0, help="local target: size of each OSD's sparse file")
    g.addoption("--rgw-port", type=int, default=0, help="local target: RGW port on 127.0.0.1 (default: a free one)")
    g.addoption("--gate-timeout", type=float, default=300.0, help="seconds the HEALTH_OK gate waits (default 300)")
    g.addoption("--gate-stall-window", type=float, default=60.0,
                help="the gate gives up before its bound once the cluster's state has not changed, with no "
                     "recovery I/O, for this many seconds (default 60; 0: always wait out --gate-timeout)")
    g.addoption("--op-timeout", type=float, default=60.0,
                help="bound of each S3 and HTTP operation of a check, the SDK's retries included (default 60)")
    g.addoption("--recovery-timeout", type=float, default=600.0,
                help="bound of each wait of the disruptive checks: OSDs down/out, data moved, "
                     "every PG active+clean (default 600 s)")
    g.addoption("--allow-disruptive", action="store_true",
                help="target ceph: let the scale and removal checks change the cluster's shape")
    g.addoption("--mute-health", action="append", default=[], metavar="CODE",
                help="accept this Ceph health code in the gate (repeatable; listed in the report)")
    _shared(g, "--keep-cluster", action="store_true",
                help="local, kind and vagrant targets: leave the cluster up after the run (says how to reach it)")
    g.addoption("--run-root", default="/var/tmp/ceph-conformance",
                help="where run directories (cluster data, loop files) live")
    g.addoption("--report-dir", default="reports", help="where reports/<run-id>/ is written")
    k = parser.getgroup("ceph-conformance-rook", "Ceph conformance suite: Rook on Kubernetes (kind, vagrant, "
                        "kubeconfig)")
    _shared(k, "--kubeconfig", default=None,
                help="kubeconfig of the cluster (--target kubeconfig; default $KUBECONFIG)")
    k.addoption("--context", default=None, help="context of the kubeconfig to use (default: its current one)")
    k.addoption("--rook-namespace", default=None,
                help="--target kubeconfig: the namespace of an existing Rook cluster to test (the run adds only "
                     "run-named resources there and removes them)")
    k.addoption("--deploy-rook", action="store_true",
                help="--target kubeconfig: install Rook and a CephCluster (on the --osd-device devices), "
                     "remove them at the end")
    k.addoption("--osd-device", action="append", default=[], metavar="NODE:DEVICE",
                help="--deploy-rook: a device for an OSD, by node and path (repeatable; never all devices)")
    k.addoption("--rook-version", default=ROOK_VERSION, help=f"Rook release to install (default {ROOK_VERSION})")
    k.addoption("--rook-manifests", default=None, metavar="DIR",
                help="Rook's deploy/examples of --rook-version, for machines without the Go module proxy")
    g.addoption("--ceph-image", default=None, metavar="IMAGE",
                help="the Ceph container image to run: --target local runs its daemons and tools from it with "
                     "podman (default: the host's packages; `make ceph-image RELEASE=trixie|forky` builds one); "
                     f"the Rook targets run it (default {DEFAULT_CEPH_IMAGE})")
    k.addoption("--cephfs-client", default="kernel", choices=("kernel", "fuse"),
                help="how ceph-csi mounts CephFS in pods: kernel (default) or fuse (nodes without the ceph module)")
    k.addoption("--rook-timeout", type=float, default=1200.0,
                help="bound of each wait of the Rook deploy (operator, CephCluster, storage, apps; default 1200 s)")
    k.addoption("--allow-unsupported-kubernetes", action="store_true",
                help="Rook targets: run on a Kubernetes version outside the range the --rook-version release "
                     "documents (e.g. Rook 1.12: 1.22 to 1.28), saying so in one line, instead of refusing")
    k.addoption("--node-address", default=None, metavar="ADDR",
                help="Rook targets: the address at which this host reaches the cluster's NodePorts (the S3 "
                     "endpoint), when the nodes' InternalIPs are not reachable from here (default: a node's)")
    k.addoption("--ceph-config", action="append", default=[], metavar="OPTION=VALUE",
                help="--deploy-rook: a Ceph setting (global section) the CephCluster's daemons start with, "
                     "repeatable (e.g. osd_class_dir=/usr/lib/x86_64-linux-gnu/rados-classes)")
    k.addoption("--rook-data-dir", default="/var/lib/rook", metavar="DIR",
                help="--deploy-rook: the CephCluster's dataDirHostPath on the nodes (default /var/lib/rook); "
                     "nodes that share one filesystem (the test bed's) need one of the run's own")
    k.addoption("--rook-operator-image", default=None, metavar="IMAGE",
                help="--deploy-rook: the operator's image instead of the release's (e.g. "
                     "localhost/ceph-conformance/rook-ceph:v1.12.11-ceph18.2.7 from `make rook-image`)")
    k.addoption("--image-pull-policy", default=None, choices=("Never", "IfNotPresent", "Always"),
                help="imagePullPolicy of Rook's operator, the toolbox and the Ceph daemons (default: as Rook's "
                     "manifests say); Never where nothing may be pulled (a missing image is ErrImageNeverPull)")
    k.addoption("--no-rook-csi", action="store_true",
                help="--deploy-rook with Rook < 1.18: the operator deploys no CSI driver (no ceph-csi image here; "
                     "no PVC can then bind)")
    k.addoption("--kind-node-image", default=None,
                help="--target kind: node image (kindest/node:vX.Y.Z) picking the Kubernetes version")
    k.addoption("--vagrant-provider", default="libvirt", choices=("libvirt", "virtualbox"),
                help="--target vagrant: the VMs' provider (default libvirt)")


def _shared(group, name, **kw):
    """Add an option pytest-kind-ng's plugin may have added already (when it loaded before the suite's
    plugin could block it): then its option, same flag and destination, serves."""
    try:
        group.addoption(name, **kw)
    except ValueError as exc:
        if name not in SHARED_WITH_PYTEST_KIND or "already" not in str(exc):
            raise


def from_pytest(config):
    get = config.getoption
    opts = RunOptions(
        target=get("target"), ceph_conf=get("ceph_conf"), ceph_keyring=get("ceph_keyring"),
        rgw_endpoint=get("rgw_endpoint"), cephfs=get("cephfs"), rbd_pool=get("rbd_pool"),
        io_timeout=get("io_timeout"), nodes=get("nodes"), osds_per_node=get("osds_per_node"),
        osd_size_gib=get("osd_size_gib"), rgw_port=get("rgw_port"), gate_timeout=get("gate_timeout"),
        gate_stall_window=get("gate_stall_window"), op_timeout=get("op_timeout"),
        recovery_timeout=get("recovery_timeout"), allow_disruptive=get("allow_disruptive"),
        mute_health=list(get("mute_health")), keep_cluster=get("keep_cluster"), run_root=get("run_root"),
        report_dir=str(Path(config.rootpath) / get("report_dir")) if not Path(get("report_dir")).is_absolute()
        else get("report_dir"),
        kubeconfig=get("kubeconfig"), context=get("context"), rook_namespace=get("rook_namespace"),
        deploy_rook=get("deploy_rook"), osd_devices=list(get("osd_device")), rook_version=get("rook_version"),
        rook_manifests=get("rook_manifests"), ceph_image=get("ceph_image"), cephfs_client=get("cephfs_client"),
        rook_timeout=get("rook_timeout"), allow_unsupported_kubernetes=get("allow_unsupported_kubernetes"),
        node_address=get("node_address"), rook_data_dir=get("rook_data_dir"),
        ceph_config=list(get("ceph_config")),
        rook_operator_image=get("rook_operator_image"), image_pull_policy=get("image_pull_policy"),
        rook_csi=not get("no_rook_csi"),
        kind_node_image=get("kind_node_image"),
        vagrant_provider=get("vagrant_provider"),
    )
    if opts.target == "kubeconfig" and not opts.kubeconfig:
        opts.kubeconfig = os.environ.get("KUBECONFIG") or None
    validate(opts)
    return opts


_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def validate(o: RunOptions):
    if o.target not in TARGETS:
        if o.target in PLANNED:
            raise OptionError(f"--target {o.target}: not built yet; available targets: {', '.join(TARGETS)}")
        raise OptionError(f"--target {o.target}: unknown target; choose one of {', '.join(TARGETS)}")
    if o.target == "ceph" and not o.ceph_conf:
        raise OptionError("--target ceph needs --ceph-conf PATH (the cluster's ceph.conf, with an admin keyring)")
    if o.target != "ceph":
        for name, value in (("--ceph-conf", o.ceph_conf), ("--ceph-keyring", o.ceph_keyring),
                            ("--rgw-endpoint", o.rgw_endpoint)):
            if value:
                raise OptionError(f"{name} is for --target ceph; the {o.target} target makes its own cluster")
    if o.nodes < 3:
        raise OptionError(f"--nodes {o.nodes}: at least 3 hosts are needed for pools of size 3 "
                          "(4 for the node-removal checks)")
    if not 1 <= o.osds_per_node <= 8:
        raise OptionError(f"--osds-per-node {o.osds_per_node}: choose 1 to 8")
    if o.osd_size_gib < 2:
        raise OptionError(f"--osd-size-gib {o.osd_size_gib}: BlueStore needs at least 2 GiB per OSD here")
    if not 0 <= o.rgw_port <= 65535:
        raise OptionError(f"--rgw-port {o.rgw_port}: not a TCP port")
    if o.io_timeout <= 0:
        raise OptionError(f"--io-timeout {o.io_timeout}: must be positive seconds")
    if o.gate_timeout <= 0:
        raise OptionError(f"--gate-timeout {o.gate_timeout}: must be positive seconds")
    if o.gate_stall_window < 0:
        raise OptionError(f"--gate-stall-window {o.gate_stall_window}: must be 0 (off) or positive seconds")
    if o.op_timeout <= 0:
        raise OptionError(f"--op-timeout {o.op_timeout}: must be positive seconds")
    if o.recovery_timeout <= 0:
        raise OptionError(f"--recovery-timeout {o.recovery_timeout}: must be positive seconds")
    for code in o.mute_health:
        if not _CODE.match(code):
            raise OptionError(f"--mute-health {code}: not a Ceph health code (like OSD_DOWN or POOL_FULL)")
    if o.rgw_endpoint:
        url = urlparse(o.rgw_endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise OptionError(f"--rgw-endpoint {o.rgw_endpoint}: give a URL like http://rgw.example:8080")
    if o.ceph_image is not None and not o.ceph_image.strip():
        raise OptionError("--ceph-image is empty: name an image, e.g. localhost/ceph-conformance/ceph:18.2.7")
    if o.ceph_image and o.target == "ceph":
        raise OptionError("--ceph-image is for the clusters the suite makes (local, kind, vagrant, kubeconfig with "
                          "--deploy-rook), not --target ceph")
    if o.allow_disruptive and o.target == "local":
        raise OptionError("--allow-disruptive is for --target ceph: the local target's cluster is the run's own, "
                          "and its disruptive checks always run")
    if o.keep_cluster and o.target not in ("local", "kind", "vagrant"):
        raise OptionError(f"--keep-cluster applies to the clusters the suite makes (local, kind, vagrant), "
                          f"not to --target {o.target}")
    validate_kubernetes(o)


def validate_kubernetes(o: RunOptions):
    """The Rook targets' options: only with those targets, and consistent with each other."""
    rook_only = (("--kubeconfig", o.kubeconfig if o.target != "kubeconfig" else None), ("--context", o.context),
                 ("--rook-namespace", o.rook_namespace), ("--deploy-rook", o.deploy_rook),
                 ("--osd-device", o.osd_devices), ("--rook-manifests", o.rook_manifests),
                 ("--kind-node-image", o.kind_node_image),
                 ("--allow-unsupported-kubernetes", o.allow_unsupported_kubernetes),
                 ("--rook-operator-image", o.rook_operator_image), ("--image-pull-policy", o.image_pull_policy),
                 ("--no-rook-csi", not o.rook_csi), ("--ceph-config", o.ceph_config))
    if o.target not in KUBERNETES:
        for name, value in rook_only:
            if value:
                raise OptionError(f"{name} is for the Kubernetes targets ({', '.join(KUBERNETES)}), "
                                  f"not --target {o.target}")
        return
    if o.target == "kubeconfig":
        if not o.kubeconfig:
            raise OptionError("--target kubeconfig needs --kubeconfig=PATH (or KUBECONFIG set)")
        if o.deploy_rook == bool(o.rook_namespace):
            raise OptionError("--target kubeconfig: pass either --rook-namespace=NS (test the Rook already there) "
                              "or --deploy-rook (install Rook on the --osd-device devices)")
        if o.deploy_rook and not o.osd_devices:
            raise OptionError("--deploy-rook needs the OSD devices by name: --osd-device NODE:/dev/DEVICE, repeated "
                              "(the suite never lets Rook take every device)")
        if o.osd_devices and not o.deploy_rook:
            raise OptionError("--osd-device is for --deploy-rook; an existing Rook keeps its own OSDs")
        try:
            parse_osd_devices(o.osd_devices)
            parse_ceph_config(o.ceph_config)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
    else:
        for name, value in (("--kubeconfig", o.kubeconfig), ("--context", o.context),
                            ("--rook-namespace", o.rook_namespace), ("--deploy-rook", o.deploy_rook),
                            ("--osd-device", o.osd_devices)):
            if value:
                raise OptionError(f"{name} is for --target kubeconfig; the {o.target} target makes its own cluster "
                                  "and installs Rook in it")
    if o.kind_node_image and o.target != "kind":
        raise OptionError(f"--kind-node-image is for --target kind, not {o.target}")
    if o.rook_timeout <= 0:
        raise OptionError(f"--rook-timeout {o.rook_timeout}: must be positive seconds")
    if not o.rook_csi:
        try:
            csi_operator = has_csi_operator(o.rook_version)
        except SetupError as exc:
            raise OptionError(str(exc)) from None
        if csi_operator:
            raise OptionError(f"--no-rook-csi: Rook {o.rook_version} deploys ceph-csi through its CSI operator; "
                              "the suite turns CSI off only for Rook before 1.18 (e.g. --rook-version=1.12.11)")
