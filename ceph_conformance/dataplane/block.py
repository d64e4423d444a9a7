"""Block storage as a target offers it: RBD volumes carrying a database, and raw block devices.

Host targets attach an image with rbd-fuse, a loop device and XFS and run the distribution's
MariaDB on it; a Kubernetes target uses a PVC of the RBD storage class and a MySQL pod.
"""

from abc import ABC, abstractmethod


class BlockStorage(ABC):
    """The run's RBD volumes on one target. Every image made here is removed by remove_all()."""

    @abstractmethod
    def database(self, size_bytes):
        """A new image with a filesystem and an initialised, running database on it: BlockDatabase."""

    @abstractmethod
    def database_of(self, image):
        """The database on an existing image of the run (made by database() earlier, possibly by
        another process of the run), not running: start() attaches a fresh client and starts it."""

    @abstractmethod
    def raw_device(self, size_bytes):
        """A new image attached as a block device, without a filesystem: RawBlockDevice."""

    @abstractmethod
    def remove_all(self):
        """Stop, detach and delete every image made here (clones before their origins), whatever
        fails on the way. Returns one line per image that could not be removed."""


class BlockDatabase(ABC):
    """A MySQL-compatible database whose data directory is on an RBD volume.

    spec: the image, "pool/image". The server runs with innodb_flush_log_at_trx_commit=1: a
    committed transaction has been flushed to the volume."""

    spec = None

    @abstractmethod
    def connect(self, op_timeout=None):
        """A pymysql connection (autocommit) to the running database. Connecting, and every
        operation on it afterwards (a query with its result, a commit), each take at most
        op_timeout seconds (default: the run's --op-timeout), retries included: a database that
        accepts connections and stops answering fails the operation within it (clients/sql.py)."""

    @abstractmethod
    def start(self, timeout=120):
        """Attach the volume (a fresh storage client if it is not attached) and start the server;
        returns once it accepts connections."""

    @abstractmethod
    def stop(self):
        """A clean shutdown of the server, then the storage client detaches."""

    @abstractmethod
    def crash(self):
        """A crash of the node: the server and the storage client path under it end at once
        (SIGKILL, a force-deleted pod), so that only what the storage acknowledged as flushed can
        survive. start() then attaches afresh."""

    @abstractmethod
    def move_to_new_client(self):
        """Stop cleanly and attach the volume as another node would, a new client session of Ceph,
        and start the server there."""

    @abstractmethod
    def client_sessions(self):
        """The client sessions Ceph lists as watching the image (a set of ids)."""

    @abstractmethod
    def ran_crash_recovery(self):
        """Whether the server's last start had to recover from a crash."""

    @abstractmethod
    def log_tail(self, lines=10):
        """The end of the server's error log, for messages."""

    @abstractmethod
    def grow(self, size_bytes):
        """Grow the image, then the filesystem on it, online."""

    @abstractmethod
    def filesystem_bytes(self):
        """The size of the mounted filesystem, as the database's host sees it."""

    @abstractmethod
    def image_info(self):
        """`rbd info` of the image: size, object_size, ..."""

    @abstractmethod
    def rados_used_bytes(self):
        """What `rbd du` says the image occupies in RADOS."""

    @abstractmethod
    def snapshot(self, name):
        """A consistent snapshot of the running database: tables flushed and read-locked, the
        filesystem frozen, the image snapshotted (and protected, for clones)."""

    @abstractmethod
    def clone(self, snapshot):
        """A second database, on a clone of the image at snapshot, started: a BlockDatabase
        (removed by the storage's remove_all, before its origin)."""

    @abstractmethod
    def write_file(self, name, size, chunk):
        """Write a file of size bytes on the volume's filesystem, in chunks, then fsync. Every
        chunk is distinct (a misplaced one is caught). Returns (seconds, SHA-256 per chunk)."""

    @abstractmethod
    def read_file(self, name, chunk):
        """Read the file back from the volume, not a cache. Returns (seconds reading, SHA-256 per
        chunk), hashing not counted."""

    @abstractmethod
    def remove_file(self, name):
        """Remove a file written by write_file (no error if it is not there)."""

    @abstractmethod
    def run_fio(self, args, timeout):
        """Run fio with args (its job options, file names relative) in the volume's filesystem, where
        the database's host sees it (this host's mount; the database's pod), bounded by timeout.
        Returns fio's JSON report (a dict); its files are removed after. Raises Unsupported when
        fio is not there, RuntimeError with fio's words when it fails."""


class RawBlockDevice(ABC):
    """An RBD image as a raw block device, with direct I/O."""

    spec = None

    @abstractmethod
    def write(self, offset, data):
        """Write data at offset with direct I/O, then flush the device."""

    @abstractmethod
    def read(self, offset, length):
        """Read length bytes at offset with direct I/O."""

    @abstractmethod
    def reattach(self):
        """Detach, and attach again as a new client session."""

    @abstractmethod
    def detach(self):
        """Detach (the image stays until the storage's remove_all)."""
