"""Rook's operator image, built here: no registry can be reached, so docker.io/rook/ceph cannot be pulled.

Rook's own image (images/ceph/Dockerfile of the release) is a Ceph image with the `rook` binary
and a few files beside it. This one is the same on the suite's Ceph image (targets/local/cephimage.py:
a Debian release's Ceph, built with debootstrap + buildah when podman lacks it):
- /usr/local/bin/rook (targets/rook/build.py), and Rook's toolbox.sh and set-ceph-debug-level;
- /etc/ceph-monitoring (deploy/examples/monitoring: the mgr and the exporter read its rules);
- /etc/rook-external (the external-cluster script and its test data);
- /etc/ceph-csv-templates, empty (Rook's Makefile fills it with OLM templates made by operator-sdk;
  the operator never reads it, and Rook's build leaves it empty where it cannot make them);
- the `rook` user (uid 2016), its user; entrypoint `rook`.
Not copied: s5cmd (downloaded from GitHub by Rook's Dockerfile; a toolbox convenience) and iproute
(only Multus needs `ip`). Every file comes from Rook's module in the Go module cache at build time,
none from the repository. The image is committed into podman's storage as
localhost/ceph-conformance/rook-ceph:v<rook>-ceph<ceph>, labelled with a digest of its inputs (the
binary, the files, the Ceph image's id): it is rebuilt only when one of them changes.
`operator_archive` exports it (and `ceph_archive` the Ceph image, which the CephCluster's daemons and
the toolbox run) as OCI archives into the cache, for a Kubernetes node's containerd to import
(TestBed.import_image).
"""

import hashlib
import json
import os
import subprocess
import time

from filelock import FileLock

from ...errors import SetupError
from ...host import images
from ..local import cephimage
from . import build, release

REPOSITORY = "localhost/ceph-conformance/rook-ceph"
RECIPE = "1"  # bump when what the image holds changes: the inputs' digest then differs
INPUTS_LABEL = "ceph-conformance.inputs"
ROOK_UID = 2016  # Rook's images' user (the operator.yaml's runAsUser)
# The Debian release whose Ceph a Rook release supports: Rook 1.12 runs Quincy and Reef (trixie: 18.2.7).
CEPH_RELEASES = {(1, 12): "trixie", (1, 11): "trixie"}
# (what, in Rook's module, where in the image); directories copied whole.
FILES = (("images/ceph/toolbox.sh", "/usr/local/bin/toolbox.sh"),
         ("images/ceph/set-ceph-debug-level", "/usr/local/bin/set-ceph-debug-level"),
         ("deploy/examples/monitoring", "/etc/ceph-monitoring"),
         ("deploy/examples/create-external-cluster-resources.py",
          "/etc/rook-external/create-external-cluster-resources.py"),
         ("tests/ceph-status-out", "/etc/rook-external/test-data/ceph-status-out"))
BUILD_TIMEOUT_S = 900


def ceph_release_for(rook_version):
    found = CEPH_RELEASES.get(release.parse_version(rook_version)[:2])
    if not found:
        raise SetupError(f"Rook {rook_version}: no Ceph image recipe for its operator image (known: Rook "
                         f"{', '.join(f'{a}.{b}' for a, b in sorted(CEPH_RELEASES))})")
    return found


def image_name(rook_version, ceph_version):
    return f"{REPOSITORY}:{build.tag(rook_version)}-ceph{ceph_version}"


def _run(argv, what, timeout=BUILD_TIMEOUT_S, log=None):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if log is not None:
        with open(log, "a") as out:
            out.write(f"$ {' '.join(map(str, argv))}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"{what} failed (exit {proc.returncode}): {said}" + (f"; see {log}" if log else ""))
    return proc.stdout.strip()


def _buildah(*args):
    # podman's own storage (no --root), as the Ceph image's: the image is what podman finds by name.
    return ["nice", "-n", "19", "buildah", *args]


def image_id(name):
    proc = subprocess.run(["podman", "image", "inspect", "--format", "{{.Id}}", name], capture_output=True,
                          text=True, timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _label(name, label):
    proc = subprocess.run(["podman", "image", "inspect", "--format", f'{{{{index .Labels "{label}"}}}}', name],
                          capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _digest(paths, extra):
    """sha256 over the files (directories walked in order) and extra strings."""
    h = hashlib.sha256()
    for text in extra:
        h.update(text.encode() + b"\0")
    for path in paths:
        for f in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
            h.update(str(f.relative_to(path.parent)).encode() + b"\0")
            with open(f, "rb") as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def ensure_operator_image(rook_version, ceph_release=None, progress=print):
    """The name of Rook `rook_version`'s operator image in podman's storage, built when it is missing
    or its inputs changed (the rook binary and the Ceph image first, if they are missing)."""
    ceph_release = ceph_release or ceph_release_for(rook_version)
    binary = build.ensure_rook_binary(rook_version, progress)
    ceph = cephimage.ensure_ceph_image(ceph_release, progress)
    ceph_id = image_id(ceph)
    if not ceph_id:
        raise SetupError(f"{ceph} is not in podman's storage after its build: run `make ceph-image "
                         f"RELEASE={ceph_release}` and see its log")
    rook_dir = release.module_dir(rook_version)
    sources = [rook_dir / src for src, _ in FILES]
    gone = [str(p) for p in sources if not p.exists()]
    if gone:
        raise SetupError(f"Rook {build.tag(rook_version)}'s module lacks {', '.join(gone)}: no operator image recipe "
                         "for this release")
    name = image_name(rook_version, ceph.rsplit(":", 1)[1])
    inputs = _digest([binary, *sources], [RECIPE, ceph_id])
    if _label(name, INPUTS_LABEL) == inputs:
        return name
    images.need_tools("buildah", "podman")
    lock_dir = build.cache_root()
    lock_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_dir / "image.lock")):
        if _label(name, INPUTS_LABEL) == inputs:  # another process built it while we waited
            return name
        log = build.version_dir(rook_version) / "image-build.log"
        log.write_text("")
        progress(f"building the operator image {name} (the rook binary on {ceph}); log {log} ...")
        t0 = time.monotonic()
        previous = image_id(name)
        _build(name, ceph, binary, rook_dir, inputs, rook_version, log)
        if previous and previous != image_id(name):
            # The name moved to the new image: the old one would stay in podman's storage, unnamed.
            subprocess.run(["podman", "image", "rm", previous], capture_output=True, timeout=120)
        size = int(_run(["podman", "image", "inspect", "--format", "{{.Size}}", name], "podman image inspect"))
        progress(f"built {name} in {time.monotonic() - t0:.0f}s ({size / 1e6:.0f} MB)")
    return name


def _build(name, ceph, binary, rook_dir, inputs, rook_version, log):
    ctr = _run(_buildah("from", "--pull-never", ceph), f"buildah from {ceph}", log=log)
    try:
        _run(_buildah("copy", "--chmod", "0755", ctr, binary, "/usr/local/bin/rook"), "copying rook", log=log)
        for src, dest in FILES:
            mode = ["--chmod", "0755"] if dest.startswith("/usr/local/bin/") else []
            _run(_buildah("copy", *mode, ctr, rook_dir / src, dest), f"copying {src}", log=log)
        # The module cache's files are read-only (0444): the image's are as Rook's image has them.
        # Rook's user, and the empty OLM template directory; chroot isolation: no container runtime
        # is needed for two commands of the image's own.
        _run(_buildah("run", "--isolation", "chroot", ctr, "--", "sh", "-c",
                      f"useradd --uid {ROOK_UID} --no-create-home --shell /sbin/nologin rook && "
                      "mkdir -p /etc/ceph-csv-templates && chmod -R a+rX /etc/ceph-monitoring /etc/rook-external"),
             "adding Rook's user", log=log)
        labels = {"ceph-conformance": "rook-operator", "rook-version": build.tag(rook_version),
                  "ceph-image": ceph, INPUTS_LABEL: inputs}
        label_args = [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
        _run(_buildah("config", "--entrypoint", '["/usr/local/bin/rook"]', "--cmd", "", "--user", str(ROOK_UID),
                      *label_args, ctr), "buildah config", log=log)
        _run(_buildah("commit", "--rm", ctr, name), f"buildah commit {name}", log=log)
    except BaseException:
        subprocess.run(_buildah("rm", ctr), capture_output=True, timeout=120)
        raise


def _archive(name, path, progress):
    """name (in podman's storage) as an OCI archive at path, exported again only when the image
    changed (its id is kept beside the archive)."""
    wanted = image_id(name)
    if not wanted:
        raise SetupError(f"{name} is not in podman's storage: build it first")
    stamp = path.with_name(path.name + ".id")
    if path.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return path
        t0 = time.monotonic()
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        # buildah's OCI archive carries the full name, which containerd's import gives the image.
        _run(_buildah("push", "--quiet", name, f"oci-archive:{partial}:{name}"), f"exporting {name}")
        os.replace(partial, path)
        stamp.write_text(wanted + "\n")
        progress(f"exported {name} in {time.monotonic() - t0:.0f}s -> {path} ({path.stat().st_size / 1e6:.0f} MB)")
    return path


def operator_archive(rook_version, ceph_release=None, progress=print):
    """(image name, OCI archive path) of the operator image, built and exported as needed."""
    name = ensure_operator_image(rook_version, ceph_release, progress)
    return name, _archive(name, build.version_dir(rook_version) / f"operator-{name.rsplit(':', 1)[1]}.oci.tar",
                          progress)


# Rook's OSD prepare (pkg/daemon/ceph/osd: Provision) first runs `dmsetup version` and gives up when it
# fails, only to log the versions. A kernel without device-mapper (this machine's: no
# /dev/mapper/control driver) fails it, although raw-mode OSDs on loop devices never use
# device-mapper. So the CephCluster's image puts this ahead of /usr/sbin/dmsetup: the real one, except
# that `dmsetup version` on such a kernel says so and succeeds. Every other command is dmsetup's own.
DMSETUP = """#!/bin/sh
# ceph-conformance: see targets/rook/image.py (DMSETUP) for why.
if [ "$#" -eq 1 ] && [ "$1" = version ] && ! grep -qw device-mapper /proc/misc; then
    /usr/sbin/dmsetup version 2>/dev/null | grep '^Library'
    echo "Driver version:    none (this kernel has no device-mapper; raw OSDs do not need it)"
    exit 0
fi
exec /usr/sbin/dmsetup "$@"
"""
# Debian trixie's ceph-mgr 18.2.7 imports bcrypt (a PyO3 module) at the top of mgr_util, in every mgr
# module's subinterpreter; PyO3 refuses all but the first, so 14 modules fail (MGR_MODULE_DEPENDENCY)
# and Rook cannot reconcile a CephBlockPool (`ceph config get mgr mgr/prometheus/rbd_stats_pools`
# exits 2 with prometheus unloaded). This moves the import into password_hash, its only user, as
# later Ceph releases do; the build fails if mgr_util no longer reads as expected.
LAZY_BCRYPT = r"""
import re, sys
path = "/usr/share/ceph/mgr/mgr_util.py"
text = open(path).read()
if "\nimport bcrypt\n" not in text or "def password_hash(" not in text:
    sys.exit("mgr_util.py: no top-level `import bcrypt` or no password_hash: recipe out of date")
text = text.replace("\nimport bcrypt\n", "\n", 1)
text = re.sub(r"(def password_hash\(.*\n)", r"\1    import bcrypt  # ceph-conformance: lazily (PyO3)\n", text, count=1)
open(path, "w").write(text)
"""
CEPH_FOR_ROOK = "localhost/ceph-conformance/ceph-rook"


def ensure_ceph_for_rook(ceph_release, progress=print):
    """The suite's Ceph image of ceph_release with DMSETUP, udev and LAZY_BCRYPT: what the CephCluster's
    daemons, its OSD prepare jobs and the toolbox run. Rebuilt when the Ceph image or DMSETUP changes."""
    ceph = cephimage.ensure_ceph_image(ceph_release, progress)
    name = f"{CEPH_FOR_ROOK}:{ceph.rsplit(':', 1)[1]}"
    inputs = hashlib.sha256(f"{image_id(ceph)}\0{DMSETUP}\0udev\0{LAZY_BCRYPT}".encode()).hexdigest()
    if _label(name, INPUTS_LABEL) == inputs:
        return name
    lock_dir = build.cache_root()
    lock_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_dir / "image.lock")):
        if _label(name, INPUTS_LABEL) == inputs:
            return name
        t0 = time.monotonic()
        previous = image_id(name)
        script = lock_dir / "dmsetup"
        script.write_text(DMSETUP)
        ctr = _run(_buildah("from", "--pull-never", ceph), f"buildah from {ceph}")
        try:
            _run(_buildah("copy", "--chmod", "0755", ctr, script, "/usr/local/sbin/dmsetup"), "copying dmsetup")
            # ceph-volume inventory (Rook's OSD prepare) runs udevadm: Debian's udev package, from the
            # image's own release (Rook's images have it from their base).
            _run(_buildah("run", "--isolation", "chroot", ctr, "--", "sh", "-c",
                          "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                          "--no-install-recommends udev && apt-get clean && rm -rf /var/lib/apt/lists/*"),
                 "installing udev", timeout=BUILD_TIMEOUT_S)
            _run(_buildah("run", "--isolation", "chroot", ctr, "--", "python3", "-c", LAZY_BCRYPT),
                 "importing bcrypt lazily in the mgr")
            _run(_buildah("config", "--label", f"{INPUTS_LABEL}={inputs}", "--label",
                          "ceph-conformance=ceph-for-rook", ctr), "buildah config")
            _run(_buildah("commit", "--rm", ctr, name), f"buildah commit {name}")
        except BaseException:
            subprocess.run(_buildah("rm", ctr), capture_output=True, timeout=120)
            raise
        finally:
            script.unlink(missing_ok=True)
        if previous and previous != image_id(name):
            subprocess.run(["podman", "image", "rm", previous], capture_output=True, timeout=120)
        progress(f"built {name} (the Ceph image with Rook's dmsetup stand-in) in {time.monotonic() - t0:.0f}s")
    return name


def ceph_archive(ceph_release, progress=print):
    """(image name, OCI archive path) of the Ceph image the CephCluster's daemons and the toolbox
    run: the suite's Ceph image of ceph_release, with DMSETUP."""
    name = ensure_ceph_for_rook(ceph_release, progress)
    return name, _archive(name, build.cache_root() / "images" / f"ceph-rook-{name.rsplit(':', 1)[1]}.oci.tar",
                          progress)


def describe(rook_version, ceph_release=None):
    """What a built operator image is, for a report: its name, size and labels; None if not built."""
    ceph = cephimage.version_name(cephimage.release_tag(ceph_release or ceph_release_for(rook_version)))
    name = image_name(rook_version, ceph.rsplit(":", 1)[1])
    proc = subprocess.run(["podman", "image", "inspect", name], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return None
    info = json.loads(proc.stdout)[0]
    return {"name": name, "id": info["Id"], "size": info["Size"], "labels": info.get("Labels") or {}}
