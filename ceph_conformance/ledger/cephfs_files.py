"""Files in a CephFS directory of the run, read back through a fresh ceph-fuse client each time."""

import os

from ..payload import sha256
from .base import Part, payload, sizes_rng

COUNT = 32


class CephfsFiles(Part):
    kind = "CephFS files"

    def _client(self, directory=None):
        # Unsupported: no CephFS. The clients see only their directory of the run.
        fs = self.target.shared_filesystem(self.work_dir / "cephfs", self.namer, directory)
        return fs, fs.new_client()

    def write(self):
        fs, client = self._client()
        top = self.namer("ledger")
        try:
            (client.root / top).mkdir()
            directory = fs.release_directory()  # read back later through other clients
            rng = sizes_rng(3)
            files = {}
            for n in range(COUNT):
                name = f"file-{n:03d}"
                data = payload(rng, 1024, 512 * 1024)
                with open(client.root / top / name, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                files[name] = sha256(data)
        finally:
            fs.close()
        return {"fs": fs.fs_name, "root": directory, "dir": top, "count": COUNT, "files": files}

    def verify(self, record, findings):
        fs, client = self._client(record["root"])
        try:
            top = client.root / record["dir"]
            if not top.is_dir():
                findings.error = f"directory {self.where(record)} is gone"
                return
            for name, expected in sorted(record["files"].items()):
                path = top / name
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    findings.missing.append(name)
                except OSError as exc:
                    findings.unreadable.append(f"{name} ({exc.strerror})")
                else:
                    if sha256(data) != expected:
                        findings.changed.append(name)
                findings.checked += 1
        finally:
            fs.close()

    def where(self, record):
        return f"{record['root']}/{record['dir']}"

    def describe(self, record):
        return f"{record['count']} CephFS files in {self.where(record)}"
