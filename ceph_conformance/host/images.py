"""Container images built on this host from Debian's archive: no image can be pulled here.

debootstrap makes a minimal root filesystem of a Debian release with the packages asked for
(from the mirror apt uses by default); buildah turns it into an image, either an OCI archive
(the test bed's images, testbed/image.py) or an image in podman's storage (the Ceph images of
the local target's --ceph-image, `make ceph-image`). The root filesystem is cached beside the
build log and reused by the next build; a file lock keeps two builds of one cache apart.
"""

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SetupError

MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
DEBOOTSTRAP_TIMEOUT_S = 1800  # ~300 MB from the mirror on a shared 2-core machine, niced


@dataclass
class RootfsImage:
    """What to build: a Debian release's minbase plus packages, committed as image with cmd and labels."""
    variant: str  # the cache's name for this root filesystem, e.g. "ceph-trixie"
    suite: str  # the Debian release, e.g. "trixie"
    packages: tuple = ()
    # Made before the packages are installed: what a booted system's tmpfiles would have made (Ceph's
    # postinst chowns /run/ceph, which only systemd-tmpfiles creates).
    directories: tuple = ()
    cmd: tuple = ("/bin/sleep", "infinity")
    labels: dict = field(default_factory=dict)


def _run(argv, what, timeout, log):
    with open(log, "ab") as out:
        try:
            proc = subprocess.run([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SetupError(f"{what} took over {timeout}s; see {log}") from None
    if proc.returncode != 0:
        tail = Path(log).read_text(errors="replace").strip().splitlines()[-3:]
        raise SetupError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}; see {log}")


def need_tools(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            raise SetupError(f"building container images needs {tool}: run 'make deps' (Debian package {tool})")


def debootstrap_script(suite):
    """The debootstrap script for suite: its own, or sid's for a release newer than this debootstrap
    knows (bookworm's debootstrap has no script for forky; every release since uses sid's)."""
    own = DEBOOTSTRAP_SCRIPTS / suite
    return [] if own.exists() else [str(DEBOOTSTRAP_SCRIPTS / "sid")]


def rootfs(spec: RootfsImage, cache: Path, progress=print):
    """The cached root filesystem of spec, made when missing. Call under the cache's lock.

    debootstrap makes the release's minbase; the packages are then installed by the release's own
    apt inside it (debootstrap's --include resolves dependencies too simply: for Ceph's it pulled
    systemd in an order dpkg refuses)."""
    root = cache / f"{spec.variant}-rootfs"
    if (root / "bin" / "sleep").exists():
        return root
    need_tools("debootstrap")
    log = cache / f"build-{spec.variant}.log"
    partial = cache / f"{spec.variant}-rootfs.partial"
    progress(f"debootstrap {spec.suite} (minbase{', ' + ', '.join(spec.packages) if spec.packages else ''}); "
             f"log {log} ...")
    t0 = time.monotonic()
    if not (partial / "usr" / "bin" / "apt-get").exists() or not (partial / "debootstrap-done").exists():
        shutil.rmtree(partial, ignore_errors=True)
        _run(["nice", "-n", "19", "debootstrap", "--variant=minbase", spec.suite, partial, MIRROR,
              *debootstrap_script(spec.suite)], f"debootstrap {spec.suite}", DEBOOTSTRAP_TIMEOUT_S, log)
        (partial / "debootstrap-done").touch()
    for directory in spec.directories:
        (partial / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
    if spec.packages:
        install_packages(partial, spec.packages, log)
    (partial / "debootstrap-done").unlink(missing_ok=True)
    shutil.rmtree(partial / "debootstrap", ignore_errors=True)  # what a failed debootstrap leaves
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    progress(f"root filesystem of {spec.suite} made in {time.monotonic() - t0:.0f}s: {root}")
    return root


def install_packages(root, packages, log):
    """apt-get install packages (no recommends) inside root, with no service started; then apt's
    caches emptied (they are not part of an image). apt runs chrooted in a mount namespace of its own
    with /proc mounted (systemd-tmpfiles in postinst scripts needs it): the mount ends with it."""
    policy = root / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\n# no service starts while the image is built\nexit 101\n")
    policy.chmod(0o755)
    shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf")
    apt = ["nice", "-n", "19", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
           'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', root,
           "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q", "--no-install-recommends",
           # The mirror here may serve a dated copy of a release whose Release file's Valid-Until has
           # passed (forky's did); its signature is still checked. debootstrap does not look at it either.
           "-o", "Acquire::Check-Valid-Until=false"]
    _run([*apt, "update"], "apt-get update in the image", 600, log)
    _run([*apt, "-f", "install"], "apt-get -f install in the image", DEBOOTSTRAP_TIMEOUT_S, log)
    _run([*apt, "install", *packages], f"apt-get install {' '.join(packages)} in the image",
         DEBOOTSTRAP_TIMEOUT_S, log)
    _run([*apt, "clean"], "apt-get clean in the image", 120, log)
    shutil.rmtree(root / "var" / "lib" / "apt" / "lists", ignore_errors=True)
    (root / "var" / "lib" / "apt" / "lists" / "partial").mkdir(parents=True, exist_ok=True)


def package_version(root, package):
    """The Debian version of package installed in the root filesystem root, e.g. 18.2.7+ds-1+deb13u1."""
    proc = subprocess.run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", "${Version}", package],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SetupError(f"{root} has no package {package} installed: remove it to rebuild ({proc.stderr.strip()})")
    return proc.stdout.strip()


def upstream_version(debian_version):
    """18.2.7+ds-1+deb13u1 -> 18.2.7; 2:18.2.7-1 -> 18.2.7."""
    found = re.match(r"(?:\d+:)?(\d+(?:\.\d+)+)", debian_version)
    if not found:
        raise SetupError(f"cannot read an upstream version from Debian version {debian_version}")
    return found.group(1)


def commit(spec: RootfsImage, root: Path, destination, buildah, log, progress=print):
    """buildah: an image of root's files with spec's cmd and labels, committed to destination
    (oci-archive:PATH:NAME, or a name in buildah's storage)."""
    need_tools("buildah")
    t0 = time.monotonic()
    tar = root.with_name(root.name + ".tar")
    _run(["tar", "-C", root, "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
          "--exclude=./var/cache/apt/archives/*.deb", "-cf", tar, "."], "packing the root filesystem", 600, log)
    container = subprocess.run(buildah("from", "scratch"), capture_output=True, text=True, timeout=120)
    if container.returncode != 0:
        tar.unlink(missing_ok=True)
        raise SetupError(f"buildah from scratch failed: {container.stderr.strip()[-300:]}")
    name = container.stdout.strip()
    try:
        _run(buildah("add", name, str(tar), "/"), "buildah add", 600, log)
        labels = [arg for key, value in spec.labels.items() for arg in ("--label", f"{key}={value}")]
        cmd = "[" + ",".join(f'"{part}"' for part in spec.cmd) + "]"
        _run(buildah("config", "--cmd", cmd, *labels, name), "buildah config", 120, log)
        _run(buildah("commit", "--rm", name, destination), "buildah commit", 900, log)
    except SetupError:
        subprocess.run(buildah("rm", name), capture_output=True, timeout=120)
        raise
    finally:
        tar.unlink(missing_ok=True)
    progress(f"image committed in {time.monotonic() - t0:.0f}s -> {destination}")
