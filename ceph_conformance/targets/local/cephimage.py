"""Ceph container images for the local target's --ceph-image, built from Debian's packages.

No registry is reachable here, so `make ceph-image RELEASE=trixie` (python -m ceph_conformance
ceph-image --release trixie) builds one: a debootstrap root filesystem of the release with its Ceph
daemons and clients (host/images.py), committed by buildah into podman's storage and tagged by the
Ceph version inside, e.g. localhost/ceph-conformance/ceph:18.2.7, and by the release
(localhost/ceph-conformance/ceph:trixie). The root filesystem is cached under
/var/cache/ceph-conformance/images (CCONF_IMAGE_CACHE): a second build is a cache hit, and a build
whose image podman already has does nothing.
"""

import os
import subprocess
from pathlib import Path

from filelock import FileLock

from ...errors import SetupError
from ...host import firstuse, images

CACHE_ENV = "CCONF_IMAGE_CACHE"
DEFAULT_CACHE = Path("/var/cache/ceph-conformance/images")
REPOSITORY = "localhost/ceph-conformance/ceph"
# Debian releases and the Ceph they ship (the host's bookworm has 16.2.15 as packages).
RELEASES = {"trixie": "18.2", "forky": "20.2"}
PACKAGES = ("ceph-mon", "ceph-osd", "ceph-mgr", "ceph-mds", "radosgw", "ceph-common", "rbd-fuse", "ceph-fuse",
            "fuse3", "procps")


def cache_root():
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def spec(release):
    if release not in RELEASES:
        raise SetupError(f"no Ceph image recipe for Debian release {release!r}: choose one of {', '.join(RELEASES)}")
    return images.RootfsImage(variant=f"ceph-{release}", suite=release, packages=PACKAGES, directories=("/run/ceph",),
                              cmd=("/bin/bash",), labels={"ceph-conformance": "ceph", "debian-release": release})


def release_tag(release):
    return f"{REPOSITORY}:{release}"


def _buildah(*args):
    # podman's own storage (no --root): the image is then what `podman run` finds by name.
    return ["nice", "-n", "19", "buildah", *args]


def image_exists(name):
    try:
        return subprocess.run(["podman", "image", "exists", name], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_ceph_image(release, progress=print):
    """The name (by Ceph version) of release's Ceph image in podman's storage, built if missing."""
    spec_ = spec(release)
    images.need_tools("podman")
    tag = release_tag(release)
    cache = cache_root()
    if image_exists(tag):
        return version_name(tag)
    images.need_tools("debootstrap", "buildah")
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / "build.lock")):
        if image_exists(tag):
            return version_name(tag)
        with firstuse.step(f"building a Ceph image from Debian {release}'s packages", "3 to 4 min",
                           f"built the Ceph image of Debian {release}", progress):
            root = images.rootfs(spec_, cache, progress)
            version = images.upstream_version(images.package_version(root, "ceph-common"))
            name = f"{REPOSITORY}:{version}"
            spec_.labels["ceph-version"] = version
            images.commit(spec_, root, name, _buildah, cache / f"build-{spec_.variant}.log", progress)
            proc = subprocess.run(_buildah("tag", name, tag), capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                raise SetupError(f"buildah tag {name} {tag} failed: {proc.stderr.strip()[-300:]}")
    progress(f"{name} (Debian {release}) is in podman's storage; run it with --ceph-image={name}")
    return name


def version_name(tag):
    """The version-tagged name of the image tag (a release tag) points at."""
    proc = subprocess.run(["podman", "image", "inspect", "--format", '{{index .Labels "ceph-version"}}', tag],
                          capture_output=True, text=True, timeout=60)
    version = proc.stdout.strip()
    return f"{REPOSITORY}:{version}" if proc.returncode == 0 and version else tag
