"""RBD volumes on this host: an image exposed by rbd-fuse, attached with losetup, XFS on top.

The kernel here has no rbd or nbd module; rbd-fuse presents the image as a file and a loop device
turns that into a block device. XFS, because it grows online with the capabilities a container
has (ext4's online resize needs CAP_SYS_RESOURCE). Each attach is a new rbd-fuse process, so a
new client session, as when a pod moves to another node.
"""

import hashlib
import os
import time
from pathlib import Path

from ...commands import run
from ...errors import CommandError
from ...host import loopdev, processes
from ...host.mounts import unmount
from ...payload import MiB
from ...waits import WaitTimeout, wait_for

# A fenced client's blocklist entry: removed once its watch is gone, this bounds it if the run dies.
FENCE_EXPIRY_S = 300
# The OSDs drop a blocklisted client's watches at their next map; the watch's own timeout is 30 s.
FENCE_WAIT_S = 30

# rbd-fuse's pool when no -p is given.
RBD_FUSE_DEFAULT_POOL = "rbd"


def pool_args(pool):
    """rbd-fuse's arguments for pool: none for its default pool.

    rbd-fuse (18.2.7, 20.2.4) lets fuse_opt_parse store `-p`/`--poolname` straight into its options,
    whose pool field starts as the string literal "rbd". libfuse 3.17 changed fuse_opt_parse to
    free a `%s` option's previous value before storing the new one, so with libfuse >= 3.17 (Debian
    trixie's 3.17.2 under Ceph 18.2.7, forky's 3.18.3 under 20.2.4) rbd-fuse frees the literal and
    dies with SIGSEGV in fuse_opt_parse -> free before it mounts anything; libfuse 3.14 (bookworm,
    Ceph 16.2.15) only stored the copy. `-r` is safe (its initial value is NULL) and `-c`/`-k` are
    Ceph's own arguments, taken out of argv before fuse_opt_parse. Leaving `-p` out for the default
    pool is the same mount on every version; another pool still needs `-p`.
    """
    return [] if pool == RBD_FUSE_DEFAULT_POOL else ["-p", pool]


class RbdVolume:
    # A layer between rbd-fuse's image file and the loop device, or None. A callable
    # (volume, image_file) -> StorageLayer; part of the storage client path: it ends with it, and
    # a crash kills it. The project's tests put a write-back cache that ignores flushes here, to
    # prove that the crash check catches storage that acknowledges writes it never made durable.
    block_layer = None

    def __init__(self, ceph, pool, image, work_dir):
        self.ceph = ceph
        self.pool = pool
        self.image = image
        self.work_dir = Path(work_dir) / image
        self.fuse_dir = self.work_dir / "rbd"
        self.mountpoint = self.work_dir / "fs"
        self.device = None
        self.fuse_pid = None
        self.layer = None
        self.fenced = False  # whether the last crash() fenced the killed client

    @property
    def spec(self):
        return f"{self.pool}/{self.image}"

    def create(self, size_bytes):
        self.ceph.tool("rbd", "create", self.spec, "--size", f"{size_bytes // MiB}M", "--image-feature", "layering")
        return self

    def info(self):
        return self.ceph.tool_json("rbd", "info", self.spec)

    # -- attach / detach ------------------------------------------------------------------------
    def map(self, timeout=60):
        """rbd-fuse + loop device: returns the block device."""
        self.fuse_dir.mkdir(parents=True, exist_ok=True)
        tools = self.ceph.tools
        argv = ["rbd-fuse", "-f", "-c", tools.conf, "-n", tools.name, *pool_args(self.pool), "-r", self.image,
                self.fuse_dir]
        if tools.keyring:
            argv[4:4] = ["-k", tools.keyring]
        self.fuse_pid = self.ceph.tools.launcher.start(argv, self.work_dir / "rbd-fuse.log", self.fuse_dir,
                                                       self.fuse_dir)
        image_file = self.fuse_dir / self.image

        def probe():
            if not processes.is_alive(self.fuse_pid, str(self.fuse_dir)):
                log = (self.work_dir / "rbd-fuse.log").read_text()
                hint = ""
                if self.pool != RBD_FUSE_DEFAULT_POOL and "fuse_opt_parse" in log:
                    hint = (f"rbd-fuse crashed parsing `-p {self.pool}` (libfuse >= 3.17 frees rbd-fuse's built-in "
                            f"default pool name): use --rbd-pool {RBD_FUSE_DEFAULT_POOL} with this rbd-fuse; ")
                raise RuntimeError(f"rbd-fuse exited: {hint}{log[-500:]}")
            return image_file.exists(), f"{image_file} not there yet"

        wait_for(probe, what=f"rbd-fuse exposing {self.spec}", timeout=timeout, interval=0.2)
        direct_io = True  # the volume's data lives in RBD, not in a page cache of the rbd-fuse file
        if self.block_layer is not None:
            self.layer = self.block_layer(self, image_file)
            image_file, direct_io = self.layer.path, self.layer.direct_io
        self.device = loopdev.attach(image_file, direct_io=direct_io)
        return self.device

    def attach(self, mkfs=False, timeout=60):
        """Map, optionally make XFS, mount. Returns the mountpoint."""
        device = self.map(timeout)
        if mkfs:
            run(["mkfs.xfs", "-q", "-f", device], timeout=120)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        # nouuid: a clone carries its origin's filesystem UUID and may be mounted beside it.
        run(["mount", "-o", "nouuid", device, self.mountpoint], timeout=120)
        return self.mountpoint

    def unmount(self):
        # Not lazily: the loop device under it must be free before it is detached.
        unmount(self.mountpoint, busy_timeout=30, lazy=False)

    def unmap(self):
        if self.device:
            loopdev.detach(self.device)
            self.device = None
        if self.layer:
            self.layer.stop()
            self.layer = None
        if self.fuse_pid:
            unmount(self.fuse_dir, busy_timeout=30)
            # With its mount gone rbd-fuse closes the image and ends. A signal during that would
            # leave its watch on the image until the OSDs time it out (30 s), as a crash does.
            processes.stop(self.fuse_pid, str(self.fuse_dir), timeout=30, grace=20)
            self.fuse_pid = None

    def detach(self):
        self.unmount()
        self.unmap()

    def crash(self):
        """The node dies under the volume: rbd-fuse is SIGKILLed, so nothing it was not asked to
        flush (and did) reaches RADOS. What is left on this host is then cleared: the filesystem
        over the dead client is unmounted lazily (its log can no longer be written), the loop
        device detached, the dead FUSE mount removed. attach() then starts afresh."""
        if self.layer:
            self.layer.kill()
        if self.fuse_pid:
            dead_client = self._sole_watcher()  # its address: the image's one watcher while it lives
            self.ceph.tools.launcher.kill(self.fuse_pid, str(self.fuse_dir))
            self.fuse_pid = None
            self.fenced = self._fence(dead_client)
        unmount(self.mountpoint, busy_timeout=10, lazy=True)
        if self.device:
            loopdev.detach(self.device)
            self.device = None
        if self.layer:
            self.layer.stop()  # its mount, now dead
            self.layer = None
        unmount(self.fuse_dir, busy_timeout=10, lazy=True)

    def watchers(self):
        """The image's watchers as `rbd status` lists them: one per client that has it open."""
        return self.ceph.tool_json("rbd", "status", self.spec).get("watchers", [])

    def _sole_watcher(self):
        """The address the image is watched from while this volume's rbd-fuse has it open, or None
        when that is not the only watch (another client's must not be fenced with it)."""
        try:
            watchers = self.watchers()
        except CommandError:
            return None
        return watchers[0]["address"] if len(watchers) == 1 else None

    def _fence(self, address):
        """Blocklist the killed client until the OSDs have dropped its watch, as a node's fencing
        does (ceph-csi's NetworkFence, rbd's lock break). Unfenced, the OSDs keep a dead client's
        watch for osd_client_watch_timeout (30 s), and every rbd call that notifies the image's
        watchers (snap create, protect, clone, resize) waits 5 s for it to answer. The entry is
        removed at once after; its expiry bounds it should this run die in between. Returns whether
        it fenced: a keyring without the capability leaves the watch to time out, as before."""
        if address is None:
            return False
        try:
            self.ceph.ceph("osd", "blocklist", "add", address, str(FENCE_EXPIRY_S))
        except CommandError:
            return False
        try:
            wait_for(lambda: self._watch_gone(address), what=f"the OSDs to drop {address}'s watch on {self.spec}",
                     timeout=FENCE_WAIT_S, interval=0.2)
        except WaitTimeout:
            pass  # it times out on its own, as unfenced
        finally:
            self.ceph.ceph("osd", "blocklist", "rm", address)
        return True

    def _watch_gone(self, address):
        watchers = self.watchers()
        return all(w["address"] != address for w in watchers), f"watchers: {watchers}"

    # -- image operations -----------------------------------------------------------------------
    def grow(self, size_bytes):
        """Grow the image, the loop device and the mounted filesystem, online."""
        self.ceph.tool("rbd", "resize", self.spec, "--size", f"{size_bytes // MiB}M")
        run(["losetup", "--set-capacity", self.device], timeout=60)
        run(["xfs_growfs", self.mountpoint], timeout=120)

    def snapshot(self, name):
        self.ceph.tool("rbd", "snap", "create", f"{self.spec}@{name}")
        self.ceph.tool("rbd", "snap", "protect", f"{self.spec}@{name}")

    def clone(self, snap, image):
        self.ceph.tool("rbd", "clone", f"{self.spec}@{snap}", f"{self.pool}/{image}")
        return RbdVolume(self.ceph, self.pool, image, self.work_dir.parent)

    def remove(self):
        """Detach and delete the image with its snapshots (nothing to do if it was never made)."""
        self.detach()
        try:
            snaps = self.ceph.tool_json("rbd", "snap", "ls", self.spec)
        except CommandError as exc:
            if "No such file or directory" in exc.output:
                return
            raise
        for snap in snaps:
            if snap.get("protected") == "true":
                self.ceph.tool("rbd", "snap", "unprotect", f"{self.spec}@{snap['name']}")
        self.ceph.tool("rbd", "snap", "purge", self.spec, timeout=120)
        # A client that just closed the image may still be listed as a watcher for a moment.
        wait_for(self._no_watchers, what=f"{self.spec} to have no watchers", timeout=60, interval=0.5)
        self.ceph.tool("rbd", "rm", self.spec, timeout=300)

    def _no_watchers(self):
        watchers = self.watchers()
        return not watchers, f"watchers: {watchers}"


def fs_size_bytes(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize


def used_bytes(ceph, spec):
    """What `rbd du` says the image occupies in RADOS."""
    return ceph.tool_json("rbd", "du", spec)["images"][0]["used_size"]


def remove_all(volumes):
    """Remove every volume, newest first (clones before their origins), whatever fails on the way.

    Returns one line per volume that could not be removed."""
    failures = []
    for volume in reversed(volumes):
        try:
            volume.remove()
        except Exception as exc:  # noqa: BLE001 - the others must still be removed; reported together
            failures.append(f"{volume.spec}: {exc}")
    return failures


# -- sequential I/O through a mounted volume -------------------------------------------------------
# Every chunk is the same random body followed by its index, so chunks are distinct (a misplaced
# chunk is caught) and the digest of each is known without hashing it again while writing.


def write_sequential(path, size, chunk=4 * MiB):
    """Write `size` bytes in `chunk`-sized writes and fsync. Returns (seconds, SHA-256 per chunk)."""
    body = os.urandom(chunk - 8)
    base = hashlib.sha256(body)
    digests = []
    with open(path, "wb") as f:
        t0 = time.perf_counter()
        for i in range(size // chunk):
            stamp = i.to_bytes(8, "little")
            f.write(body)
            f.write(stamp)
            h = base.copy()
            h.update(stamp)
            digests.append(h.hexdigest())
        f.flush()
        os.fsync(f.fileno())
        seconds = time.perf_counter() - t0
    return seconds, digests


def read_uncached(path, chunk=4 * MiB):
    """Read the file from the volume, not the page cache. Returns (seconds reading, SHA-256 per chunk);
    hashing is not counted in the time."""
    fd = os.open(path, os.O_RDONLY)
    # One buffer for every chunk, as fio reads: a fresh 4 MiB object per read would count
    # allocating and faulting in its pages as the volume's time.
    buf = bytearray(chunk)
    view = memoryview(buf)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # clean pages leave the cache
        seconds, digests = 0.0, []
        while True:
            t0 = time.perf_counter()
            got = os.readv(fd, [buf])
            seconds += time.perf_counter() - t0
            if not got:
                return seconds, digests
            digests.append(hashlib.sha256(view[:got]).hexdigest())
    finally:
        view.release()
        os.close(fd)
