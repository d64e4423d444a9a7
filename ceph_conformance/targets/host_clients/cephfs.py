"""CephFS clients on this host: one ceph-fuse process per client name, each its own mount."""

import os
import shutil
from pathlib import Path

from ...host import processes
from ...host.mounts import UnmountError, is_mounted, unmount
from ...run import PREFIX
from ...secrets import write_private
from ...waits import wait_for


class FuseMount:
    def __init__(self, ceph, name, keyring, fs_name, mountpoint, log_dir, subdir="/"):
        self.ceph = ceph
        self.name = name  # client.<id>
        self.keyring = Path(keyring) if keyring else None
        self.fs_name = fs_name
        self.mountpoint = Path(mountpoint)
        self.log_dir = Path(log_dir)
        self.subdir = subdir  # the directory of the filesystem this mount shows
        self.pid = None

    @property
    def root(self):
        return self.mountpoint

    def mount(self, timeout=60):
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        argv = ["ceph-fuse", "-f", "-c", self.ceph.tools.conf, "-n", self.name,
                *(["-k", self.keyring] if self.keyring else []),
                f"--client_fs={self.fs_name}", f"--client_mountpoint={self.subdir}",
                # Per-mount socket and log: two clients of one host must not share them.
                f"--admin_socket={self.log_dir}/{self.name}.asok", f"--log_file={self.log_dir}/{self.name}.log",
                f"--pid_file={self.log_dir}/{self.name}.pid",
                self.mountpoint]
        self.pid = self.ceph.tools.launcher.start(argv, self.log_dir / f"{self.name}.stdout", self.mountpoint,
                                                  self.mountpoint)

        def probe():
            if not processes.is_alive(self.pid, str(self.mountpoint)):
                tail = (self.log_dir / f"{self.name}.stdout").read_text(errors="replace").strip()[-500:]
                raise RuntimeError(f"ceph-fuse for {self.name} exited: {tail}")
            return is_mounted(self.mountpoint), f"{self.mountpoint} not mounted yet"

        wait_for(probe, what=f"CephFS mount of {self.name} at {self.mountpoint}", timeout=timeout, interval=0.2)
        return self

    def unmount(self, timeout=30):
        """Unmount and end the client; by SIGKILL and lazily if the filesystem does not answer."""
        grace = 10  # a client whose mount is gone ends its MDS session and exits by itself
        try:
            unmount(self.mountpoint, busy_timeout=timeout, lazy=False)
        except UnmountError:
            if self.pid:
                self.ceph.tools.launcher.kill(self.pid, str(self.mountpoint))
            unmount(self.mountpoint, busy_timeout=0, lazy=True)
            grace = 0
        if self.pid:
            processes.stop(self.pid, str(self.mountpoint), timeout=timeout, grace=grace)


class FuseClients:
    """CephFS as a target offers it on this host: client identities and their mounts.

    The clients see one directory of the filesystem, `/<cconf-<run>-...-fs-N>`, made for them:
    each is a cephx user of the run with rwp caps on that directory only (read, write, set
    quotas) and mounts only it, so a client can touch nothing else of a shared filesystem.
    """

    def __init__(self, ceph, fs_name, work_dir, namer, directory=None):
        self.ceph = ceph
        self.fs_name = fs_name
        self.work_dir = Path(work_dir)
        self.namer = namer
        self.mounts = []
        # "/cconf-...": made with the first client and removed at close, unless an existing one of the
        # run was given (data written earlier, read back through new clients) or released.
        self.directory = directory
        self.owns_directory = False

    def _ensure_directory(self, timeout):
        if self.directory is None:
            name = self.namer("fs")
            with AdminRoot(self.ceph, self.fs_name, self.work_dir, timeout) as root:
                root.mkdir(name)
            self.directory = "/" + name
            self.owns_directory = True

    def release_directory(self):
        """Keep the directory past close (it is run-scoped: the run's sweep removes it); returns it."""
        self.owns_directory = False
        return self.directory

    def new_client(self, timeout=60):
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_directory(timeout)
        name = "client." + self.namer("fs")
        keyring = self.work_dir / f"{name}.keyring"
        write_private(keyring, self.ceph.ceph("fs", "authorize", self.fs_name, name, self.directory, "rwp"))
        mount = FuseMount(self.ceph, name, keyring, self.fs_name, self.work_dir / "mnt" / name, self.work_dir,
                          subdir=self.directory)
        self.mounts.append(mount)
        return mount.mount(timeout)

    def close(self):
        problems = []
        for mount in reversed(self.mounts):
            mount.unmount()
            try:
                self.ceph.ceph("auth", "rm", mount.name, timeout=30)
            except Exception as exc:  # noqa: BLE001 - reported, the run's sweep is the fallback
                problems.append(f"could not remove {mount.name}: {exc}")
        self.mounts.clear()
        if self.directory and self.owns_directory:
            try:
                with AdminRoot(self.ceph, self.fs_name, self.work_dir) as root:
                    root.remove(self.directory.lstrip("/"))
                self.directory = None
            except Exception as exc:  # noqa: BLE001 - reported, the run's sweep is the fallback
                problems.append(f"could not remove {self.directory} from CephFS: {exc}")
        return problems


class AdminRoot:
    """A short-lived mount of the filesystem's root by the admin identity, for the run's top-level
    directories only: make one (never an existing one), list those with the suite's prefix, remove
    one of them. The clients of the checks never get this view."""

    def __init__(self, ceph, fs_name, work_dir, timeout=60):
        self.work_dir = Path(work_dir)
        self.timeout = timeout
        self.mount = FuseMount(ceph, ceph.tools.name, ceph.tools.keyring, fs_name, self.work_dir / "mnt" / "admin-root",
                               self.work_dir)

    def __enter__(self):
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.mount.mount(self.timeout)
        except BaseException:
            self.mount.unmount()
            raise
        return self

    def __exit__(self, *exc):
        self.mount.unmount()

    def _child(self, name):
        if "/" in name or not name.startswith(PREFIX + "-"):
            raise ValueError(f"{name!r}: not a top-level directory of this suite")
        return self.mount.root / name

    def mkdir(self, name):
        self._child(name).mkdir(mode=0o755)  # no exist_ok: a name already taken is not ours

    def names(self):
        return sorted(n for n in os.listdir(self.mount.root) if n.startswith(PREFIX + "-"))

    def remove(self, name):
        path = self._child(name)
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path)

