"""Loop devices backed by sparse files inside the run directory."""

import os
from pathlib import Path

from ..commands import run
from ..errors import CommandError, SetupError
from ..waits import WaitTimeout, wait_for


def create_backing_file(path, size_bytes):
    with open(path, "wb") as f:
        f.truncate(size_bytes)


def attach(backing_file, direct_io=False):
    """Attach a loop device to backing_file and return its path (/dev/loopN).

    direct_io: the loop device bypasses the page cache of its backing file (no second cache)."""
    extra = ["--direct-io=on"] if direct_io else []
    try:
        return run(["losetup", "--find", "--show", *extra, str(backing_file)], timeout=30).stdout.strip()
    except CommandError as exc:
        raise SetupError(
            f"no free loop device for {backing_file} ({exc.output.strip() or exc}): "
            "detach unused ones with `losetup -d` or load the loop module with more devices"
        ) from None


class DetachError(RuntimeError):
    """A loop device is still attached to its backing file after losetup --detach."""


def detach(device, timeout=30.0):
    """Detach and wait until the kernel has let go of the backing file (detaching is lazy: a device
    still open, e.g. by a mounted filesystem, stays attached). Raises DetachError if it stays."""
    result = run(["losetup", "--detach", device], timeout=30, check=False)
    backing = Path("/sys/block") / Path(device).name / "loop" / "backing_file"

    def probe():
        try:
            return False, f"still attached to {backing.read_text().strip()}"
        except OSError:
            return True, "detached"

    try:
        wait_for(probe, what=f"loop device {device} to detach", timeout=timeout, interval=0.1)
    except WaitTimeout as exc:
        said = (result.stderr or "").strip()
        raise DetachError(f"{exc}" + (f"; losetup said: {said}" if said else "")) from None


def attached_under(directory, name_prefix=None):
    """Loop devices whose backing file lies under directory: {device: backing_file}.

    name_prefix also catches devices whose backing file was on a FUSE mount that is gone: the
    kernel then shows the path relative to the lost mount ("/<image>"), only the name remains."""
    directory = os.path.realpath(directory)
    found = {}
    for backing in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            target = backing.read_text().strip()
        except OSError:
            continue
        # a deleted backing file reads as "path (deleted)"
        target = target.removesuffix(" (deleted)")
        if target == directory or target.startswith(directory + os.sep):
            found["/dev/" + backing.parts[3]] = target
        elif name_prefix and os.path.basename(target).startswith(name_prefix) and target.count(os.sep) == 1:
            found["/dev/" + backing.parts[3]] = target
    return found


def free_device_available():
    """True when `losetup --find` can hand out a device (existing free one or a new one)."""
    if not os.path.exists("/dev/loop-control"):
        return False
    try:
        return bool(run(["losetup", "--find"], timeout=10).stdout.strip())
    except CommandError:
        return False
