"""A shared filesystem as a target offers it: independent clients of one CephFS directory of the
run, programs running on them, and a web app serving files from it.

Host targets: each client is its own ceph-fuse mount on this host, and its programs are host
processes working in it. Kubernetes: pods mounting one ReadWriteMany PVC, programs run by exec.
Paths are relative to the directory the clients share ("a/b"); no path of the target's hosts is
ever handed out.
"""

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..errors import Unsupported


@dataclass
class FileStat:
    mode: int  # permission bits and file type, as os.stat's st_mode
    nlink: int
    ino: int
    size: int


@dataclass
class ProgramResult:
    returncode: int
    output: str  # stdout and stderr together


class SharedFilesystem(ABC):
    """CephFS clients of one directory of the run (made with the first client, removed at close
    unless released). fs_name: the filesystem; directory: the shared directory's path in it."""

    fs_name = None
    directory = None

    @abstractmethod
    def new_client(self, timeout=60):
        """A new, independent client of the shared directory (its own Ceph identity and session):
        a FilesystemClient."""

    @abstractmethod
    def release_directory(self):
        """Keep the directory past close (the run's sweep removes it); returns its path, which a
        later SharedFilesystem of the run is given to read the same files."""

    @abstractmethod
    def web_app(self, client, path):
        """A web server serving path (relative to the shared directory) as client sees it: a WebApp."""

    @abstractmethod
    def close(self):
        """End every client and remove what was made. Returns a list of problems (empty: all gone)."""

    # --- Ghost (an app keeping its content here and its database on a block volume) ---

    def ghost(self, client, database, path):
        """Ghost, not started, serving a site whose content directory is path (relative to the
        shared directory, made if missing) as client sees it, and whose database is database's (a
        BlockDatabase, which gets a database and a user of Ghost's own). Another call with the same
        database and path is the same site served from another client. A GhostApp."""

        raise Unsupported(f"{type(self).__name__}: no Ghost on this target")

    # --- MinIO (an S3 server keeping its buckets here) ---

    def minio(self, client, path):
        """A MinIO server (dataplane.minio.MinioServer, not started) storing its buckets in path
        (relative to the shared directory) as client sees it; close() stops it."""
        raise Unsupported(f"{type(self).__name__}: no MinIO on this target")


class FilesystemClient(ABC):
    """One client of the shared directory. Operations raise OSError (with errno) as the client's
    filesystem answered, so a check can tell ENOENT from EDQUOT."""

    name = None  # the client's Ceph identity, for messages

    @abstractmethod
    def subdir(self, path):
        """The same client (same session), with paths and programs' working directory relative to
        path."""

    @abstractmethod
    def write(self, path, data):
        """Create or replace the file with data, and fsync it."""

    @abstractmethod
    def read(self, path, uncached=False):
        """The file's bytes; uncached: this client's page cache dropped first."""

    @abstractmethod
    def mkdir(self, path, parents=False): ...

    @abstractmethod
    def rename(self, src, dst): ...

    @abstractmethod
    def chmod(self, path, mode): ...

    @abstractmethod
    def link(self, src, dst):
        """A hard link dst to src."""

    @abstractmethod
    def symlink(self, target, path):
        """A symbolic link at path pointing to target (as given, not resolved)."""

    @abstractmethod
    def readlink(self, path): ...

    @abstractmethod
    def unlink(self, path): ...

    @abstractmethod
    def rmdir(self, path): ...

    @abstractmethod
    def remove_tree(self, path):
        """Remove a directory with everything under it."""

    @abstractmethod
    def stat(self, path):
        """A FileStat (following symlinks); raises FileNotFoundError if there is none."""

    @abstractmethod
    def exists(self, path): ...

    @abstractmethod
    def is_dir(self, path): ...

    @abstractmethod
    def setxattr(self, path, name, value):
        """Set an extended attribute (value: bytes), e.g. ceph.quota.max_bytes."""

    @abstractmethod
    def getxattr(self, path, name):
        """An extended attribute's value (bytes)."""

    @abstractmethod
    def run(self, argv, *, input=None, timeout):
        """Run a program on this client, in the shared directory, and wait for it (bounded):
        a ProgramResult. argv[0] "python3" is a Python 3 interpreter."""

    @abstractmethod
    def start(self, argv):
        """Start a program on this client, in the shared directory: a Program, running."""

    def run_fio(self, args, timeout, files=()):
        """Run fio with args (its job options; files relative to the shared directory) on this
        client, bounded by timeout, and return its JSON report (a dict). files: what the jobs make,
        removed after. Raises Unsupported when the client has no fio, RuntimeError when it fails."""
        report = "cconf-fio-report.json"
        try:
            try:
                program = self.start(["fio", "--output-format=json", f"--output={report}", *args])
            except FileNotFoundError as exc:  # a host client without the program
                raise Unsupported(f"client {self.name} has no fio to run: {exc}") from None
            try:
                result = program.wait(timeout)
            except TimeoutError:
                program.kill()
                raise RuntimeError(f"fio on client {self.name} did not end within {timeout:.0f}s") from None
            if result.returncode in (126, 127) or "No such file or directory: 'fio'" in result.output:
                raise Unsupported(f"client {self.name} has no fio to run: {result.output.strip()[:200]}")
            if result.returncode != 0:
                raise RuntimeError(f"fio on client {self.name} failed (exit {result.returncode}): "
                                   f"{result.output.strip()[-500:]}")
            return json.loads(self.read(report))
        finally:
            for name in (report, *files):
                if self.exists(name):
                    self.unlink(name)


class Program(ABC):
    """A program running on a filesystem client."""

    @abstractmethod
    def wait(self, timeout):
        """Its ProgramResult; raises TimeoutError if it has not ended within timeout."""

    @abstractmethod
    def kill(self):
        """End it at once and collect it (bounded); its output so far can then be had by wait."""

    @abstractmethod
    def running(self): ...


class WebApp(ABC):
    """A web server serving files from the shared filesystem; url: as a client outside the
    target's nodes reaches it."""

    url = None

    @abstractmethod
    def start(self, timeout=30): ...

    @abstractmethod
    def stop(self): ...


class GhostApp(WebApp):
    """Ghost (the publishing platform) in production mode: url is its site as a client outside the
    target's nodes reaches it (the admin API under url/ghost/api/admin/); its content directory is
    content_path (relative to the shared directory) and its tables are in database_name of the
    BlockDatabase it was given."""

    content_path = None
    database_name = None

    @abstractmethod
    def start(self, timeout=600):
        """Start Ghost and return once its admin API answers (the first start creates its tables);
        an error with the end of its log if it exits or never answers within timeout."""

    @abstractmethod
    def log_tail(self, lines=10):
        """The end of Ghost's log, for messages."""
