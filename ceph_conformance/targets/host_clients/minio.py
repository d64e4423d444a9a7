"""MinIO on this host, serving a directory of the shared CephFS directory through one ceph-fuse mount.

MinIO publishes source only: the binary is built once from its Go module through the Go module
proxy into the cache (host/gobuild.py) and kept there. The server listens on loopback on a free
port, with its root user's credentials in its environment (never on its command line) and
--anonymous, so its log (kept in the report) does not show them. It is a process marked as the run's (the sweep
ends one left behind). move_to() stops it and points the next start at another client's mount of
the same directory.

The version is the one MinIO module version the Go module proxy serves here; it stores objects in
MinIO's own single-drive format (xl.meta per object, part files with bitrot hashes), not as plain
files (MinIO's "fs" mode was removed in RELEASE.2022-10-29).
"""

import secrets as pysecrets
import time
from pathlib import Path

from ...clients.minio_files import serving
from ...clients.s3 import S3Credentials
from ...dataplane.minio import MinioServer
from ...errors import SetupError
from ...host import gobuild, processes
from ...host.ports import free_port
from ...secrets import register
from ...waits import GiveUp, WaitTimeout, wait_for

MINIO = gobuild.GoProgram(name="minio", package="github.com/minio/minio",
                          version="v0.0.0-20260212201848-7aac2a2c5b7c", expected="about 9 min")
ROOT_USER = "conformance"
STOP_TIMEOUT = 20.0


def log_tail(path, lines=8):
    try:
        text = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


class HostMinio(MinioServer):
    """client: a HostFilesystemClient; path: relative to the shared directory; run_dir: this
    server's own files (log, certs dir), which mark its process as the run's."""

    version = MINIO.version

    def __init__(self, client, path, run_dir, progress=print):
        self.path = path
        self.run_dir = Path(run_dir)
        self.progress = progress
        self.credentials = S3Credentials(ROOT_USER, ROOT_USER, register(pysecrets.token_urlsafe(24)))
        self.pid = None
        self.url = None
        self._serve(client)

    def _serve(self, client):
        self.client_name = client.name
        self.data_dir = client.host_path(self.path)

    @property
    def log(self):
        return self.run_dir / "minio.log"

    def start(self, timeout=120):
        if self.pid is not None:
            return
        binary = gobuild.ensure_built(MINIO, progress=self.progress)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "certs").mkdir(exist_ok=True)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {"MINIO_ROOT_USER": self.credentials.access_key, "MINIO_ROOT_PASSWORD": self.credentials.secret_key,
               "MINIO_BROWSER": "off", "MINIO_UPDATE": "off", "HOME": str(self.run_dir)}
        self._note(f"starting on {self.data_dir} through {self.client_name} at {self.url}")
        self.pid = processes.start([binary, "server", self.data_dir, "--address", f"127.0.0.1:{port}",
                                    "--certs-dir", self.run_dir / "certs", "--anonymous"],
                                   self.log, self.run_dir, env=env)

        def ready():
            if not processes.is_alive(self.pid, str(self.run_dir)):
                raise GiveUp(f"MinIO exited while starting on {self.client_name}")
            return serving(self.url)

        started = time.monotonic()
        try:
            wait_for(ready, what=f"MinIO on {self.url} (serving through {self.client_name})", timeout=timeout,
                     interval=0.3)
        except (WaitTimeout, GiveUp) as exc:
            self.stop()
            raise SetupError(f"{exc}; MinIO's log ends: {log_tail(self.log)}") from None
        self._note(f"serving S3 after {time.monotonic() - started:.1f}s")

    def stop(self):
        if self.pid is None:
            return
        # SIGTERM, then SIGKILL: one stuck even then is in the kernel on the mount, and the mount's
        # teardown reports it.
        started = time.monotonic()
        self.stopped = processes.stop(self.pid, str(self.run_dir), timeout=STOP_TIMEOUT)
        self._note(f"{self.stopped} after {time.monotonic() - started:.1f}s")
        self.pid = None
        self.url = None

    def _note(self, line):  # the harness's own lines in MinIO's log, for the report
        with open(self.log, "a") as log:
            log.write(f"--- {line}\n")

    def move_to(self, client):
        self.stop()
        self._serve(client)
