"""The test bed's one container image, built here: no image can be pulled on these machines.

host/images.py makes a minimal Debian root filesystem from Debian's archive with debootstrap, and
buildah turns it into an OCI archive (its storage under the cache, not the host's
/var/lib/containers). The image also serves as the pod sandbox ("pause") image: its default
command sleeps. Both steps are cached under <cache>/images and rebuilt only when missing.
"""

import os

from filelock import FileLock

from ..host import images
from . import build

IMAGE = "localhost/ceph-conformance/bookworm:testbed"
SUITE = "bookworm"
# A variant that also holds Debian's Ceph CLI (ceph, rados, rbd, ...): a toolbox for a Ceph cluster of
# this host, reached from a hostNetwork pod.
CEPH_IMAGE = "localhost/ceph-conformance/bookworm-ceph:testbed"
# The tests of the cluster network look from inside pods: iproute2 (`ip route get`) and curl (HTTP,
# the API through the `kubernetes` Service). Its own cache name: an archive without them may exist.
NET_TOOLS = ("iproute2", "curl")
VARIANTS = {IMAGE: ("bookworm-net", NET_TOOLS), CEPH_IMAGE: ("bookworm-ceph", ("ceph-common",))}


def images_dir():
    return build.cache_root() / "images"


def archive_path(image=IMAGE):
    return images_dir() / f"{VARIANTS[image][0]}.oci.tar"


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
    images.need_tools("debootstrap", "buildah")
    images_dir().mkdir(parents=True, exist_ok=True)
    with FileLock(str(images_dir() / "build.lock")):
        if archive.exists():
            return archive
        spec = images.RootfsImage(variant=variant, suite=SUITE, packages=packages,
                                  labels={"ceph-conformance": "testbed"})
        root = images.rootfs(spec, images_dir(), progress)
        partial = archive.with_suffix(".partial")
        images.commit(spec, root, f"oci-archive:{partial}:{image}", _buildah,
                      images_dir() / f"build-{variant}.log", progress)
        os.replace(partial, archive)
    return archive
