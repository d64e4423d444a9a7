"""The shared filesystem from this host: each client is its own ceph-fuse mount of the run's
CephFS directory, its operations are this process's system calls on that mount, and its programs
are host processes working in it (marked as the run's, so the sweep ends any left behind)."""

import os
import shutil
import subprocess
import sys
from itertools import count
from pathlib import Path, PurePosixPath

from ...dataplane.sharedfs import FileStat, FilesystemClient, Program, ProgramResult, SharedFilesystem, WebApp
from ...host import processes
from ...host.ports import free_port
from .cephfs import FuseClients
from .nginx import Nginx


class HostSharedFilesystem(SharedFilesystem):
    def __init__(self, ceph, fs_name, work_dir, namer, directory=None):
        self.clients = FuseClients(ceph, fs_name, work_dir, namer, directory)
        self.fs_name = fs_name
        self.work_dir = Path(work_dir)
        self.apps = []
        self._app_ids = count(1)

    @property
    def directory(self):
        return self.clients.directory

    def new_client(self, timeout=60):
        mount = self.clients.new_client(timeout)
        return HostFilesystemClient(mount.name, mount.root)

    def release_directory(self):
        return self.clients.release_directory()

    def web_app(self, client, path):
        app = NginxApp(client.host_path(path), self.work_dir / f"nginx-{next(self._app_ids)}")
        self.apps.append(app)
        return app

    def ghost(self, client, database, path):
        from .ghost import GhostSites

        if getattr(self, "_ghost_sites", None) is None:
            self._ghost_sites = GhostSites(self.work_dir)
        return self._ghost_sites.app(client, database, path)

    def minio(self, client, path):
        """MinIO built from its Go module, on loopback, serving path on client's mount (minio.py)."""
        from .minio import HostMinio

        server = HostMinio(client, path, self.work_dir / f"minio-{next(self._app_ids)}")
        self.apps.append(server)
        return server

    def close(self):
        for app in self.apps:
            app.stop()
        # Ghost before the mounts its content is on.
        problems = self._ghost_sites.close() if getattr(self, "_ghost_sites", None) else []
        return problems + self.clients.close()


class HostFilesystemClient(FilesystemClient):
    """Paths are relative to base (the client's mount of the shared directory, or a directory in
    it); an absolute path or one climbing out with '..' is refused."""

    def __init__(self, name, base):
        self.name = name
        self.base = Path(base)

    def host_path(self, path):
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"{path!r}: paths are relative to the shared directory, without '..'")
        return self.base / rel

    def subdir(self, path):
        return HostFilesystemClient(self.name, self.host_path(path))

    def write(self, path, data):
        with open(self.host_path(path), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def read(self, path, uncached=False):
        with open(self.host_path(path), "rb") as f:
            if uncached:  # clean pages leave this client's cache: the read goes to the cluster
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            return f.read()

    def mkdir(self, path, parents=False):
        self.host_path(path).mkdir(parents=parents)

    def rename(self, src, dst):
        os.rename(self.host_path(src), self.host_path(dst))

    def chmod(self, path, mode):
        os.chmod(self.host_path(path), mode)

    def link(self, src, dst):
        os.link(self.host_path(src), self.host_path(dst))

    def symlink(self, target, path):
        os.symlink(target, self.host_path(path))

    def readlink(self, path):
        return os.readlink(self.host_path(path))

    def unlink(self, path):
        os.unlink(self.host_path(path))

    def rmdir(self, path):
        os.rmdir(self.host_path(path))

    def remove_tree(self, path):
        shutil.rmtree(self.host_path(path))

    def stat(self, path):
        st = os.stat(self.host_path(path))
        return FileStat(mode=st.st_mode, nlink=st.st_nlink, ino=st.st_ino, size=st.st_size)

    def exists(self, path):
        return self.host_path(path).exists()

    def is_dir(self, path):
        return self.host_path(path).is_dir()

    def setxattr(self, path, name, value):
        os.setxattr(self.host_path(path), name, value)

    def getxattr(self, path, name):
        return os.getxattr(self.host_path(path), name)

    def run(self, argv, *, input=None, timeout):
        program = self.start(argv, stdin=input is not None)
        return program.wait(timeout, input=input)

    def start(self, argv, stdin=False):
        return HostProgram(argv, self.base, stdin)


class HostProgram(Program):
    def __init__(self, argv, cwd, stdin=False):
        argv = [sys.executable if a == "python3" and i == 0 else str(a) for i, a in enumerate(argv)]
        self.argv = argv
        # Marked as the run's (by the directory it works in), so a sweep ends one left behind.
        env = {**os.environ, processes.OWNER_ENV: str(cwd)}
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = None

    def wait(self, timeout, input=None):
        if self.output is None:
            try:
                self.output, _ = self.proc.communicate(input=input, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"{self.argv[0]} did not end within {timeout:.0f}s") from None
        return ProgramResult(self.proc.returncode, self.output)

    def kill(self):
        self.proc.kill()
        try:
            self.output, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # stuck in the kernel on the filesystem: say so
            self.output = "(no output: the process did not die within 10s of SIGKILL)"

    def running(self):
        return self.proc.poll() is None


class NginxApp(WebApp):
    def __init__(self, root, run_dir):
        self.server = Nginx(root, run_dir, free_port())
        self.url = self.server.url

    def start(self, timeout=30):
        self.server.start(timeout)

    def stop(self):
        self.server.stop()
