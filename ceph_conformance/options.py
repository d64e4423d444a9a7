"""Command-line options of the suite, validated into one RunOptions (config from one place)."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .targets import PLANNED, TARGETS


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


def add_options(parser):
    g = parser.getgroup("ceph-conformance", "Ceph conformance suite")
    g.addoption("--target", default="local",
                help="where the cluster comes from: local (default, real daemons on this host) or "
                     "ceph (an existing cluster, with --ceph-conf)")
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
    g.addoption("--keep-cluster", action="store_true", help="local target: leave the cluster up after the run")
    g.addoption("--run-root", default="/var/tmp/ceph-conformance",
                help="where run directories (cluster data, loop files) live")
    g.addoption("--report-dir", default="reports", help="where reports/<run-id>/ is written")


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
    )
    validate(opts)
    return opts


_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def validate(o: RunOptions):
    if o.target not in TARGETS:
        if o.target in PLANNED:
            raise OptionError(
                f"--target {o.target}: the Rook/Kubernetes targets are not built yet; "
                f"available targets: {', '.join(TARGETS)}"
            )
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
    if o.allow_disruptive and o.target == "local":
        raise OptionError("--allow-disruptive is for --target ceph: the local target's cluster is the run's own, "
                          "and its disruptive checks always run")
    if o.keep_cluster and o.target != "local":
        raise OptionError("--keep-cluster applies to the local target only")
