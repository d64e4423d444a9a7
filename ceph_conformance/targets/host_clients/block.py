"""Block storage from this host: RBD images through rbd-fuse, a loop device and XFS, with the
distribution's MariaDB on them (rbd.py, mariadb.py), and raw devices with direct I/O."""

import json
import mmap
import os
import shutil
import subprocess
from itertools import count
from pathlib import Path

from ...commands import run
from ...dataplane.block import BlockDatabase, BlockStorage, RawBlockDevice
from ...errors import CommandError, Unsupported
from ...host import processes
from .mariadb import MariaDB
from .rbd import RbdVolume, fs_size_bytes, read_uncached, remove_all, used_bytes, write_sequential


class HostBlockStorage(BlockStorage):
    def __init__(self, ceph, pool, work_dir, namer, op_timeout=60.0, datadir_template=None):
        self.ceph, self.pool, self.work_dir, self.namer = ceph, pool, Path(work_dir), namer
        self.op_timeout = op_timeout  # each SQL operation's budget
        self.datadir_template = datadir_template  # a DatadirTemplate new databases copy, or None: installed
        self.made = []  # volumes, in the order made: removed newest first (clones before origins)
        self.attachments = []  # every place an image was seen from (a database may move to another)
        self.databases = []
        self._places = count(1)
        self._servers = count(1)

    def volume(self, image, place=""):
        """The image as seen from a place of its own (a mount path, loop device, server dir)."""
        volume = RbdVolume(self.ceph, self.pool, image, self.work_dir / place if place else self.work_dir)
        self.attachments.append(volume)
        return volume

    def _server(self, volume):
        # Its own directory for the socket, logs and pid, short: a unix socket path has 107 bytes.
        return MariaDB(volume.mountpoint / "mysql", self.work_dir / f"db-{next(self._servers)}", self.op_timeout)

    def _database(self, volume):
        db = HostDatabase(self, volume, self._server(volume))
        self.databases.append(db)
        return db

    def database(self, size_bytes):
        volume = self.volume(self.namer("img"))
        self.made.append(volume)  # recorded before it exists: removed even if the rest fails
        volume.create(size_bytes)
        volume.attach(mkfs=True)
        db = self._database(volume)
        db.server.initialize(self.datadir_template)
        db.server.start()
        return db

    def database_of(self, image):
        return self._database(self.volume(image))

    def raw_device(self, size_bytes):
        volume = self.volume(self.namer("img"))
        self.made.append(volume)
        volume.create(size_bytes)
        device = HostRawDevice(volume)
        device.reattach()
        return device

    def remove_all(self):
        failures = []
        for db in reversed(self.databases):
            try:
                db.server.stop()
            except Exception as exc:  # noqa: BLE001 - every volume must still be detached and removed
                failures.append(f"database on {db.spec}: {exc}")
        self.databases.clear()
        # Detach wherever an image is attached now: a database moved to a new client runs on an
        # attachment that is not the one its image was made through.
        for volume in reversed(self.attachments):
            try:
                volume.detach()
            except Exception as exc:  # noqa: BLE001 - reported with the removals
                failures.append(f"{volume.spec} at {volume.work_dir}: {exc}")
        self.attachments.clear()
        failures += remove_all(self.made)
        self.made.clear()
        return failures


class HostDatabase(BlockDatabase):
    def __init__(self, storage, volume, server):
        self.storage, self.volume, self.server = storage, volume, server

    @property
    def spec(self):
        return self.volume.spec

    def connect(self, op_timeout=None):
        return self.server.connect(op_timeout)

    def start(self, timeout=120):
        if self.volume.device is None:
            self.volume.attach()
        self.server.start(timeout)

    def stop(self):
        self.server.stop()
        self.volume.detach()

    def crash(self):
        self.server.kill()
        self.volume.crash()

    def move_to_new_client(self):
        self.stop()
        # Another node: its own rbd-fuse (a new Ceph session), loop device, mount path, server dir.
        self.volume = self.storage.volume(self.volume.image, f"node-{next(self.storage._places)}")
        self.server = self.storage._server(self.volume)
        self.start()

    def client_sessions(self):
        return {w["client"] for w in self.volume.watchers()}

    def ran_crash_recovery(self):
        return self.server.ran_crash_recovery()

    def log_tail(self, lines=10):
        return self.server.log_tail(lines)

    def grow(self, size_bytes):
        self.volume.grow(size_bytes)

    def filesystem_bytes(self):
        return fs_size_bytes(self.volume.mountpoint)

    def image_info(self):
        return self.volume.info()

    def rados_used_bytes(self):
        return used_bytes(self.volume.ceph, self.spec)

    def snapshot(self, name):
        with self.connect() as conn, conn.cursor() as cur:
            # A consistent snapshot of a live database: quiesce tables, freeze the filesystem.
            cur.execute("FLUSH TABLES WITH READ LOCK")
            try:
                subprocess.run(["fsfreeze", "--freeze", str(self.volume.mountpoint)], check=True, timeout=60)
                try:
                    self.volume.snapshot(name)
                finally:
                    subprocess.run(["fsfreeze", "--unfreeze", str(self.volume.mountpoint)], check=True, timeout=60)
            finally:
                cur.execute("UNLOCK TABLES")

    def clone(self, snapshot):
        clone = self.storage.volume(self.volume.image + "-clone", f"node-{next(self.storage._places)}")
        self.storage.made.append(clone)  # recorded before it exists: removed before its origin
        self.volume.clone(snapshot, clone.image)
        db = self.storage._database(clone)
        db.start()
        return db

    def write_file(self, name, size, chunk):
        return write_sequential(self.volume.mountpoint / name, size, chunk)

    def read_file(self, name, chunk):
        return read_uncached(self.volume.mountpoint / name, chunk)

    def remove_file(self, name):
        (self.volume.mountpoint / name).unlink(missing_ok=True)

    def run_fio(self, args, timeout):
        if not shutil.which("fio"):
            raise Unsupported("this host has no fio (Debian's package fio)")
        work = self.volume.mountpoint / "cconf-fio"
        work.mkdir(exist_ok=True)
        try:
            # A host process on the mounted volume, marked as the run's (by the directory it works in).
            done = run(["fio", "--output-format=json", *args], cwd=work, timeout=timeout,
                       env={processes.OWNER_ENV: str(work)}, check=False)
        except CommandError as exc:
            raise RuntimeError(f"fio on {self.spec}: {exc}") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if done.returncode != 0:
            raise RuntimeError(f"fio on {self.spec} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        return json.loads(done.stdout)


class HostRawDevice(RawBlockDevice):
    """O_DIRECT on the loop device (itself direct to rbd-fuse): buffers are page-aligned (mmap)."""

    def __init__(self, volume):
        self.volume = volume

    @property
    def spec(self):
        return self.volume.spec

    def write(self, offset, data):
        buf = mmap.mmap(-1, len(data))
        buf.write(data)
        fd = os.open(self.volume.device, os.O_WRONLY | os.O_DIRECT)
        try:
            done = os.pwrite(fd, buf, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
            buf.close()
        if done != len(data):
            raise OSError(f"short write on {self.spec}: {done} of {len(data)} bytes at offset {offset}")

    def read(self, offset, length):
        buf = mmap.mmap(-1, length)
        fd = os.open(self.volume.device, os.O_RDONLY | os.O_DIRECT)
        try:
            got = os.preadv(fd, [buf], offset)
            return bytes(buf[:got])
        finally:
            os.close(fd)
            buf.close()

    def reattach(self):
        if self.volume.device:
            self.volume.unmap()
        self.volume.map()

    def detach(self):
        self.volume.unmap()
