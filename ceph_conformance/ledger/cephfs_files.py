"""Files in a CephFS directory of the run, read back through a fresh client each time."""

from ..payload import sha256
from .base import Part, payload, sizes_rng

COUNT = 32


class CephfsFiles(Part):
    kind = "CephFS files"

    def _client(self, directory=None):
        # Unsupported: no CephFS. The clients see only their directory of the run.
        fs = self.target.shared_filesystem(f"{self.scope}-cephfs", self.namer, directory)
        return fs, fs.new_client()

    def write(self):
        fs, client = self._client()
        top = self.namer("ledger")
        try:
            client.mkdir(top)
            directory = fs.release_directory()  # read back later through other clients
            rng = sizes_rng(3)
            files = {}
            for n in range(COUNT):
                name = f"file-{n:03d}"
                data = payload(rng, 1024, 512 * 1024)
                client.write(f"{top}/{name}", data)  # fsynced
                files[name] = sha256(data)
        finally:
            fs.close()
        return {"fs": fs.fs_name, "root": directory, "dir": top, "count": COUNT, "files": files}

    def verify(self, record, findings):
        fs, client = self._client(record["root"])
        try:
            top = record["dir"]
            if not client.is_dir(top):
                findings.error = f"directory {self.where(record)} is gone"
                return
            for name, expected in sorted(record["files"].items()):
                try:
                    data = client.read(f"{top}/{name}")
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
