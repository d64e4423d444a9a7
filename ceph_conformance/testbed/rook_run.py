"""Rook on the test bed, end to end: `make rook-on-testbed` (`python -m ceph_conformance testbed rook`).

Brings up a bed of three nodes (its own network namespace, kube-proxy, CoreDNS), imports Rook's
operator image and the Ceph image built here into every node, gives each node one loop device as
its OSD disk, then runs the conformance suite through `--target kubeconfig --deploy-rook` with
the bed's kubeconfig, and tears it all down, whatever happened: the bed removes its loop devices
with its directory (their backing files live in it, named with the run prefix).

Nothing is pulled: the images are the ones built here, with imagePullPolicy Never, and no CSI
driver is deployed (no ceph-csi image exists here: Rook < 1.18 only).
"""

import subprocess
import sys
import time
from pathlib import Path

from ..host import loopdev
from ..run import PREFIX
from .bed import DEFAULT_ROOT, TestBed

REPO = Path(__file__).resolve().parents[2]
NODES = 3  # three mons on three nodes, as Rook places them
DISK_GIB = 8


def attach_disks(bed, per_node=1, size_gib=DISK_GIB, progress=print):
    """{node name: [loop device]}: sparse files under the bed's directory, attached as loop devices."""
    disks_dir = bed.dir / "disks"
    disks_dir.mkdir(exist_ok=True)
    devices = {}
    for node in bed.state()["nodes"]:
        for i in range(per_node):
            # The bed's teardown detaches loop devices whose backing file carries this name.
            backing = disks_dir / f"{PREFIX}-{bed.dir.name}-n{node['index']}-osd{i}.img"
            loopdev.create_backing_file(backing, int(size_gib * 1024**3))
            devices.setdefault(node["name"], []).append(loopdev.attach(backing))
    progress("OSD disks: " + ", ".join(f"{n}:{d}" for n, ds in devices.items() for d in ds))
    return devices


def suite_argv(bed, devices, images, rook_version, pytest_args):
    net = bed.network()
    argv = [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "--target", "kubeconfig",
            f"--kubeconfig={bed.kubeconfig}", "--deploy-rook", f"--rook-version={rook_version}",
            f"--ceph-image={images['ceph']}", f"--rook-operator-image={images['operator']}",
            "--image-pull-policy=Never", "--no-rook-csi", "--allow-unsupported-kubernetes"]
    if net is not None:
        argv.append(f"--node-address={net.bed_addr}")  # the NodePorts, from this host
    argv += [f"--osd-device={node}:{dev}" for node, devs in devices.items() for dev in devs]
    return argv + list(pytest_args)


def run(pytest_args, rook_version="1.12.11", directory=None, progress=print):
    """The suite's exit status; the bed is always torn down."""
    from .rook_images import import_rook_images

    bed = TestBed(directory or DEFAULT_ROOT / f"rook-{time.strftime('%Y%m%d-%H%M%S')}")
    phases = {}
    t0 = time.monotonic()
    try:
        bed.up(progress=progress, nodes=NODES)
        phases["bed"] = time.monotonic() - t0
        t = time.monotonic()
        images = import_rook_images(bed, rook_version, progress=progress)
        phases["images"] = time.monotonic() - t
        devices = attach_disks(bed, progress=progress)
        argv = suite_argv(bed, devices, images, rook_version, pytest_args)
        progress("running: " + " ".join(argv[2:]))
        t = time.monotonic()
        rc = subprocess.call(argv, cwd=REPO)
        phases["suite"] = time.monotonic() - t
        return rc
    finally:
        t = time.monotonic()
        bed.down(progress=progress)
        phases["teardown"] = time.monotonic() - t
        progress("rook on the test bed: " + ", ".join(f"{k} {v:.0f}s" for k, v in phases.items()))
