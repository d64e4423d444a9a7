"""The test bed's one container image, built here: no image can be pulled on these machines.

debootstrap makes a minimal Debian root filesystem from Debian's archive (the mirror apt uses by
default); buildah turns it into an OCI archive (its storage under the cache, not the host's
/var/lib/containers). The image also serves as the pod sandbox ("pause") image: its default
command sleeps. Both steps are cached under <cache>/images and rebuilt only when missing.
"""

import os
import shutil
import subprocess
import time

from filelock import FileLock

from ..errors import SetupError
from . import build

IMAGE = "localhost/ceph-conformance/bookworm:testbed"
SUITE = "bookworm"
# A variant that also holds Debian's Ceph CLI (ceph, rados, rbd, ...): a toolbox for a Ceph cluster of
# this host, reached from a hostNetwork pod.
CEPH_IMAGE = "localhost/ceph-conformance/bookworm-ceph:testbed"
VARIANTS = {IMAGE: ("bookworm", ()), CEPH_IMAGE: ("bookworm-ceph", ("ceph-common",))}


def images_dir():
    return build.cache_root() / "images"


def archive_path(image=IMAGE):
    return images_dir() / f"{VARIANTS[image][0]}.oci.tar"


def _run(argv, what, timeout, log):
    with open(log, "ab") as out:
        try:
            proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SetupError(f"{what} took over {timeout}s; see {log}") from None
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise SetupError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}; see {log}")


def _buildah(*args):
    storage = build.cache_root() / "buildah"
    return ["nice", "-n", "19", "buildah", "--root", str(storage / "storage"), "--runroot", str(storage / "run"),
            "--storage-driver", "vfs", *args]


def ensure_image(progress=print, image=IMAGE):
    """The OCI archive of image (IMAGE, or CEPH_IMAGE), built if the cache lacks it; returns its path."""
    variant, packages = VARIANTS[image]
    archive = archive_path(image)
    if archive.exists():
        return archive
    for tool in ("debootstrap", "buildah"):
        if shutil.which(tool) is None:
            raise SetupError(f"building the test bed's image needs {tool}: run 'make deps' (Debian package {tool})")
    images_dir().mkdir(parents=True, exist_ok=True)
    with FileLock(str(images_dir() / "build.lock")):
        if archive.exists():
            return archive
        log = images_dir() / f"build-{variant}.log"
        rootfs = images_dir() / f"{variant}-rootfs"
        include = [f"--include={','.join(packages)}"] if packages else []
        t0 = time.monotonic()
        if not (rootfs / "bin" / "sleep").exists():
            shutil.rmtree(rootfs, ignore_errors=True)
            progress(f"debootstrap {SUITE} (minbase{', ' + ', '.join(packages) if packages else ''}) for {image} ...")
            _run(["nice", "-n", "19", "debootstrap", "--variant=minbase", *include, SUITE, str(rootfs)],
                 "debootstrap", 1800, log)
            progress(f"root filesystem made in {time.monotonic() - t0:.0f}s")
        t0 = time.monotonic()
        tar = images_dir() / f"{variant}-rootfs.tar"
        _run(["tar", "-C", str(rootfs), "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
              "--exclude=./var/cache/apt/archives/*.deb", "-cf", str(tar), "."],
             "packing the root filesystem", 600, log)
        container = subprocess.run(_buildah("from", "scratch"), capture_output=True, text=True, timeout=120)
        if container.returncode != 0:
            raise SetupError(f"buildah from scratch failed: {container.stderr.strip()[-300:]}")
        name = container.stdout.strip()
        try:
            _run(_buildah("add", name, str(tar), "/"), "buildah add", 600, log)
            _run(_buildah("config", "--cmd", '["/bin/sleep","infinity"]', "--label", "ceph-conformance=testbed", name),
                 "buildah config", 120, log)
            partial = archive.with_suffix(".partial")
            _run(_buildah("commit", "--rm", name, f"oci-archive:{partial}:{image}"), "buildah commit", 600, log)
        except SetupError:
            subprocess.run(_buildah("rm", name), capture_output=True, timeout=120)
            raise
        finally:
            tar.unlink(missing_ok=True)
        os.replace(partial, archive)
        progress(f"image {image} built in {time.monotonic() - t0:.0f}s -> {archive}")
    return archive
