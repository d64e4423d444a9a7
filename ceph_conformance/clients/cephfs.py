"""CephFS clients on this host: one ceph-fuse process per client name, each its own mount."""

from pathlib import Path

from ..host import processes
from ..host.mounts import UnmountError, is_mounted, unmount
from ..waits import WaitTimeout, wait_for


class FuseMount:
    def __init__(self, ceph, name, keyring, fs_name, mountpoint, log_dir):
        self.ceph = ceph
        self.name = name  # client.<id>
        self.keyring = Path(keyring)
        self.fs_name = fs_name
        self.mountpoint = Path(mountpoint)
        self.log_dir = Path(log_dir)
        self.pid = None

    @property
    def root(self):
        return self.mountpoint

    def mount(self, timeout=60):
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        argv = ["ceph-fuse", "-f", "-c", self.ceph.conf, "-n", self.name, "-k", self.keyring,
                f"--client_fs={self.fs_name}",
                # Per-mount socket and log: two clients of one host must not share them.
                f"--admin_socket={self.log_dir}/{self.name}.asok", f"--log_file={self.log_dir}/{self.name}.log",
                self.mountpoint]
        self.pid = processes.start(argv, self.log_dir / f"{self.name}.stdout", self.mountpoint)

        def probe():
            if not processes.is_alive(self.pid, str(self.mountpoint)):
                tail = (self.log_dir / f"{self.name}.stdout").read_text(errors="replace").strip()[-500:]
                raise RuntimeError(f"ceph-fuse for {self.name} exited: {tail}")
            return is_mounted(self.mountpoint), f"{self.mountpoint} not mounted yet"

        wait_for(probe, what=f"CephFS mount of {self.name} at {self.mountpoint}", timeout=timeout, interval=0.2)
        return self

    def unmount(self, timeout=30):
        """Unmount and end the client; by SIGKILL and lazily if the filesystem does not answer."""
        try:
            unmount(self.mountpoint, busy_timeout=timeout, lazy=False)
        except UnmountError:
            if self.pid:
                processes.kill(self.pid, str(self.mountpoint))
            unmount(self.mountpoint, busy_timeout=0, lazy=True)
        if self.pid:
            processes.stop(self.pid, str(self.mountpoint), timeout=timeout)


class SharedFilesystem:
    """CephFS as a target offers it on this host: client identities and their mounts.

    Each client is a cephx user of the run (rwp caps: read, write, set quotas), removed at the end.
    """

    def __init__(self, ceph, fs_name, work_dir, namer):
        self.ceph = ceph
        self.fs_name = fs_name
        self.work_dir = Path(work_dir)
        self.namer = namer
        self.mounts = []

    def new_client(self, timeout=60):
        name = "client." + self.namer("fs")
        keyring = self.work_dir / f"{name}.keyring"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        keyring.write_text(self.ceph.ceph("fs", "authorize", self.fs_name, name, "/", "rwp"))
        keyring.chmod(0o600)
        mount = FuseMount(self.ceph, name, keyring, self.fs_name, self.work_dir / "mnt" / name, self.work_dir)
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
        return problems


def wait_visible(path, timeout=10.0):
    """CephFS is coherent through caps, but a remote client's metadata can take a moment."""
    try:
        wait_for(lambda: (Path(path).exists(), f"{path} not there"), what=f"{path} to appear", timeout=timeout,
                 interval=0.05)
    except WaitTimeout:
        return False
    return True
