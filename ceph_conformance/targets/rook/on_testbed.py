"""Rook on the test bed: its images imported into every node, loop devices as OSD disks, and the
suite run through `--target kubeconfig --deploy-rook` (`make rook-on-testbed`, i.e.
`python -m ceph_conformance rook-on-testbed -- PYTEST_ARGS`).

Nothing can be pulled: the operator image (the Ceph image with `rook` added, image.py) and the Ceph
image the CephCluster runs are exported as OCI archives into the cache and imported into every
node's containerd (TestBed.import_image), under the exact names the Rook layer's settings take
(operator_image, ceph_image, with image_pull_policy "Never"). No CSI driver is deployed (no
ceph-csi image exists here: Rook < 1.18 only).

`run` brings up a bed of three nodes (its own network namespace, kube-proxy, CoreDNS), imports the
images, gives each node one loop device as its OSD disk, runs the suite with the bed's kubeconfig,
and tears it all down, whatever happened: the bed removes its loop devices with its directory
(their backing files live in it, named with the run prefix).
"""

import subprocess
import sys
import time
from pathlib import Path

from ...host import loopdev
from ...run import PREFIX
from ...testbed.bed import DEFAULT_ROOT, TestBed
from . import image

DEFAULT_ROOK_VERSION = "1.12.11"  # the newest Rook whose operator builds from the Go module proxy
REPO = Path(__file__).resolve().parents[3]
NODES = 3  # three mons on three nodes, as Rook places them
DISK_GIB = 8
DEBIAN_CLASS_DIR = "/usr/lib/x86_64-linux-gnu/rados-classes"  # where Debian's ceph-osd installs them

def import_rook_images(bed, rook_version=DEFAULT_ROOK_VERSION, ceph_release=None, progress=print, ceph=True):
    """Build what the cache lacks and import the operator image (and, with ceph, the Ceph image)
    into every node of bed. Returns {"operator": name, "ceph": name or None, "seconds": {...}}."""
    seconds = {}
    t0 = time.monotonic()
    operator, operator_tar = image.operator_archive(rook_version, ceph_release, progress)
    seconds["build"] = round(time.monotonic() - t0, 1)
    archives = [(operator, operator_tar)]
    ceph_name = None
    if ceph:
        ceph_name, ceph_tar = image.ceph_archive(ceph_release or image.ceph_release_for(rook_version), progress)
        archives.append((ceph_name, ceph_tar))
    for name, archive in archives:
        t0 = time.monotonic()
        bed.import_image(archive)
        seconds[f"import {name}"] = round(time.monotonic() - t0, 1)
        progress(f"imported {name} into every node in {seconds[f'import {name}']:.0f}s")
    return {"operator": operator, "ceph": ceph_name, "seconds": seconds}


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
            "--image-pull-policy=Never", "--no-rook-csi", "--allow-unsupported-kubernetes",
            # trixie's ceph-mgr 18.2.7 loads bcrypt (PyO3) in every module's subinterpreter: 13-14
            # modules fail to load. A defect of that build, reviewed (as the local target's trixie test).
            "--mute-health", "MGR_MODULE_DEPENDENCY"]
    if net is not None:
        argv.append(f"--node-address={net.bed_addr}")  # the NodePorts, from this host
    argv.append(f"--rook-data-dir={bed.dir / 'rook'}")  # the nodes share this host's filesystem
    # Debian's build gives osd_class_dir relative (lib/x86_64-linux-gnu/rados-classes): an OSD in a
    # pod found no libcls_version.so, and radosgw-admin's realm create failed with EOPNOTSUPP.
    argv.append(f"--ceph-config=osd_class_dir={DEBIAN_CLASS_DIR}")
    argv += [f"--osd-device={node}:{dev}" for node, devs in devices.items() for dev in devs]
    return argv + list(pytest_args)


def run(pytest_args, rook_version=DEFAULT_ROOK_VERSION, directory=None, progress=print):
    """The suite's exit status; the bed is always torn down."""
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
