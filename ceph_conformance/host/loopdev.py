"""Loop devices backed by sparse files inside the run directory.

The kernel here makes only max_loop devices (8) at boot, and `losetup --find` hands out no more.
When those are taken, a new device is added with LOOP_CTL_ADD on /dev/loop-control, recorded in
ADDED_DIR, and removed again (LOOP_CTL_REMOVE) when the run detaches it: what the run adds, it
removes; a device it did not add is never removed.
"""

import errno
import fcntl
import os
from pathlib import Path

from ..commands import run
from ..errors import CommandError, SetupError
from ..waits import WaitTimeout, wait_for


def create_backing_file(path, size_bytes):
    with open(path, "wb") as f:
        f.truncate(size_bytes)


LOOP_CONTROL = "/dev/loop-control"
LOOP_CTL_ADD, LOOP_CTL_REMOVE = 0x4C80, 0x4C81
ADDED_DIR = Path("/run/ceph-conformance/added-loop-devices")  # one file per device the suite added
FIRST_ADDED = 64  # above what a host makes at boot (max_loop), and apart from users' own numbers


def attach(backing_file, direct_io=False):
    """Attach a loop device to backing_file and return its path (/dev/loopN); add a device when
    none is free.

    direct_io: the loop device bypasses the page cache of its backing file (no second cache)."""
    extra = ["--direct-io=on"] if direct_io else []
    try:
        return run(["losetup", "--find", "--show", *extra, str(backing_file)], timeout=30).stdout.strip()
    except CommandError as exc:
        said = exc.output.strip() or str(exc)
    device = _add_device(backing_file, said)
    try:
        run(["losetup", *extra, device, str(backing_file)], timeout=30)
    except CommandError as exc:
        _remove_added(device)
        raise SetupError(f"could not attach {backing_file} to {device}, added for it: {exc.output.strip()}") from None
    return device


def _add_device(backing_file, why):
    """A new loop device, recorded as the suite's. why: what losetup said when none was free."""
    try:
        fd = os.open(LOOP_CONTROL, os.O_RDWR)
    except OSError as exc:
        raise SetupError(f"no free loop device for {backing_file} ({why}), and none can be added "
                         f"({LOOP_CONTROL}: {exc.strerror}): detach unused ones with `losetup -d`") from None
    try:
        for index in range(FIRST_ADDED, 1 << 20):
            try:
                number = fcntl.ioctl(fd, LOOP_CTL_ADD, index)
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    continue  # someone's device: taken
                raise SetupError(f"no free loop device for {backing_file} ({why}), and adding one failed: "
                                 f"LOOP_CTL_ADD {index}: {exc.strerror}") from None
            device = f"/dev/loop{number}"
            ADDED_DIR.mkdir(parents=True, exist_ok=True)
            (ADDED_DIR / f"loop{number}").write_text(str(backing_file) + "\n")
            _wait_node(device)
            return device
    finally:
        os.close(fd)
    raise SetupError(f"no free loop device for {backing_file} ({why})")


def _wait_node(device):
    # devtmpfs makes the node as the kernel adds the device; give it a moment, bounded.
    wait_for(lambda: (os.path.exists(device), f"{device} not in /dev yet"), what=f"{device} to appear",
             timeout=10, interval=0.05)


def added_by_suite(device):
    return (ADDED_DIR / Path(device).name).exists()


def _remove_added(device):
    """Remove a device the suite added (and only such a device) once it is detached."""
    record = ADDED_DIR / Path(device).name
    if not record.exists():
        return
    number = int(Path(device).name.removeprefix("loop"))
    fd = os.open(LOOP_CONTROL, os.O_RDWR)
    try:
        fcntl.ioctl(fd, LOOP_CTL_REMOVE, number)
    except OSError as exc:
        if exc.errno != errno.ENODEV:  # already gone is what we wanted
            raise DetachError(f"{device}, added by the suite, could not be removed: {exc.strerror}") from None
    finally:
        os.close(fd)
    record.unlink(missing_ok=True)


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
    _remove_added(device)


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


def remove_unused_added(directory):
    """Remove the devices the suite added for backing files under directory that are no longer
    attached (a run that died between detaching and removing). Returns the devices removed."""
    directory = os.path.realpath(directory)
    removed = []
    for record in sorted(ADDED_DIR.glob("loop*")) if ADDED_DIR.is_dir() else []:
        try:
            backing = record.read_text().strip()
        except OSError:
            continue
        attached = (Path("/sys/block") / record.name / "loop" / "backing_file").exists()
        if not attached and (backing == directory or backing.startswith(directory + os.sep)):
            _remove_added("/dev/" + record.name)
            removed.append("/dev/" + record.name)
    return removed


def free_device_available():
    """True when `losetup --find` can hand out a device, or a new one can be added."""
    if not os.path.exists(LOOP_CONTROL):
        return False
    try:
        if run(["losetup", "--find"], timeout=10).stdout.strip():
            return True
    except CommandError:
        pass
    return os.access(LOOP_CONTROL, os.W_OK)
