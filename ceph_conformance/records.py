"""JSON records that the processes of a run share: written whole (a temp file, then a rename, so a
reader never sees half a record) and read back as None until they exist."""

import json


def write_record(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(path)


def read_record(path):
    return json.loads(path.read_text()) if path.exists() else None
