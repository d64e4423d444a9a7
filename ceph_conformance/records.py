"""JSON records that the processes of a run share: written whole (a temporary file of the writer's
own, then a rename, so a reader never sees half a record and two writers never share a temporary
file) and read back as None until they exist."""

import json
import os
import tempfile
from pathlib import Path


def write_record(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_record(path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None


class RecordDir:
    """A directory of named records (a run's session directory)."""

    def __init__(self, directory):
        self.dir = Path(directory)

    def path(self, name):
        return self.dir / name

    def read(self, name):
        return read_record(self.path(name))

    def write(self, name, payload):
        write_record(self.path(name), payload)
