"""What a Kubernetes target needs before anything is created, each lack said in one line."""

import os
import shutil
from pathlib import Path

from ...errors import SetupError
from .release import parse_version

# Kubernetes versions each Rook release supports (Rook's documentation, "Kubernetes versions"): the
# releases that install with csi-operator.yaml (v1.18 on), and 1.12, the newest whose operator builds
# from the Go module proxy (targets/rook/build.py).
SUPPORTED_KUBERNETES = {(1, 12): ((1, 22), (1, 28)), (1, 18): ((1, 29), (1, 34)), (1, 19): ((1, 30), (1, 35)),
                        (1, 20): ((1, 31), (1, 36))}
ALLOW_OPTION = "--allow-unsupported-kubernetes"


def rook_version(text):
    """The (major, minor, patch) of a Rook release the suite can install, or SetupError."""
    version = parse_version(text)
    if version[:2] not in SUPPORTED_KUBERNETES:
        known = ", ".join(f"{a}.{b}" for a, b in sorted(SUPPORTED_KUBERNETES))
        raise SetupError(f"--rook-version {text}: the suite installs Rook {known} (their manifests and CRDs)")
    return version


def kubernetes_supported(rook, major, minor, git_version, allow=False):
    """None if Rook (major, minor, ...) documents Kubernetes major.minor. Outside that range: a
    SetupError in one line, or with allow (ALLOW_OPTION) that line returned for the caller to say,
    and the run carries on (Rook 1.12 uses policy/v1 and batch/v1 where the server has them)."""
    low, high = SUPPORTED_KUBERNETES[tuple(rook[:2])]
    if low <= (major, minor) <= high:
        return None
    said = (f"Kubernetes {git_version} is outside the range Rook {'.'.join(map(str, rook))} documents "
            f"({low[0]}.{low[1]} to {high[0]}.{high[1]})")
    if allow:
        return f"{said}; carrying on as {ALLOW_OPTION} asks"
    raise SetupError(f"{said}: use a cluster in that range, another --rook-version, or {ALLOW_OPTION} to run anyway")


def programs(names, why, which=shutil.which):
    """SetupError naming the first program not on PATH."""
    for name in names:
        if which(name) is None:
            raise SetupError(f"no `{name}` on PATH: {why}")


def container_engine(which=shutil.which, env=os.environ):
    """The engine kind drives: docker, or podman with KIND_EXPERIMENTAL_PROVIDER=podman."""
    wanted = env.get("KIND_EXPERIMENTAL_PROVIDER", "docker")
    if which(wanted) is None:
        raise SetupError(f"no `{wanted}` on PATH: kind runs its nodes as {wanted} containers; install it "
                         "(or set KIND_EXPERIMENTAL_PROVIDER=podman to use podman)")
    return wanted


def kubeconfig_file(path):
    if not path:
        raise SetupError("--target kubeconfig needs --kubeconfig=PATH (or KUBECONFIG set)")
    if not Path(path).is_file():
        raise SetupError(f"--kubeconfig {path}: no such file; give the kubeconfig of the cluster to test")


def loop_devices(needed, free, what):
    """SetupError if fewer than needed loop devices can be had (free: how many can)."""
    if free < needed:
        raise SetupError(f"{what} needs {needed} loop devices and only {free} can be had: detach unused ones "
                         "(`losetup -D` for yours), or ask for fewer nodes or OSDs per node")


def free_loop_devices(limit, can_find=None):
    """How many loop devices (up to limit) this host can hand out. losetup --find creates a new
    device when every one is taken (LOOP_CTL_GET_FREE), so one that works means as many as asked."""
    if os.geteuid() != 0:
        raise SetupError("the kind target attaches loop devices on this host for its OSDs: run as root")
    if can_find is None:
        from ...host.loopdev import free_device_available as can_find
    return limit if can_find() else 0
