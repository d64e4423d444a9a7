"""RADOS objects in a pool of the run's own, read back with a per-operation timeout.

A read of an object whose PG has no live copy waits forever unless the client gives up:
`rados_osd_op_timeout` makes it fail with ETIMEDOUT, and the finding names the object's PG,
its state and the OSDs it last lived on.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..commands import run
from ..errors import CommandError
from ..payload import sha256
from .base import Part, payload, sizes_rng

COUNT = 48
OP_TIMEOUT = 15


class RadosObjects(Part):
    kind = "rados objects"

    def write(self):
        ceph = self.target.client()
        pool = self.namer("ledger")
        ceph.ceph("osd", "pool", "create", pool, "8", "8")
        ceph.ceph("osd", "pool", "application", "enable", pool, "conformance")
        tmp = Path(self.work_dir) / "rados"
        tmp.mkdir(parents=True, exist_ok=True)
        rng = sizes_rng(1)
        objects = {}
        for n in range(COUNT):
            name = f"obj-{n:03d}"
            data = payload(rng, 4 * 1024, 256 * 1024)
            path = tmp / name
            path.write_bytes(data)
            ceph.tool("rados", "-p", pool, "put", name, path, timeout=120)
            path.unlink()
            objects[name] = sha256(data)
        return {"pool": pool, "count": COUNT, "objects": objects}

    def verify(self, record, findings):
        ceph = self.target.client()
        pool = record["pool"]
        tmp = Path(self.work_dir) / "rados-verify"
        tmp.mkdir(parents=True, exist_ok=True)

        def read(name):
            path = tmp / name
            argv = ["rados", *ceph.identity_args(), "-p", pool, "get", name, path,
                    f"--rados_osd_op_timeout={OP_TIMEOUT}", f"--rados_mon_op_timeout={OP_TIMEOUT}"]
            try:
                proc = run(argv, timeout=OP_TIMEOUT + 30, check=False)
            except CommandError as exc:
                return name, "unreadable", str(exc)
            try:
                if proc.returncode != 0:
                    # "error getting pool/obj: (110) Connection timed out": the errno part says it.
                    said = " ".join((proc.stderr or proc.stdout).split()).rsplit(": ", 1)[-1][-200:]
                    kind = "missing" if "No such file or directory" in said else "unreadable"
                    return name, kind, said
                return name, "ok" if sha256(path.read_bytes()) == record["objects"][name] else "changed", ""
            finally:
                path.unlink(missing_ok=True)

        unreadable = []
        with ThreadPoolExecutor(max_workers=8) as pool_:
            for name, outcome, said in pool_.map(read, sorted(record["objects"])):
                findings.checked += 1
                if outcome == "missing":
                    findings.missing.append(name)
                elif outcome == "changed":
                    findings.changed.append(name)
                elif outcome == "unreadable":
                    unreadable.append((name, said))
        if unreadable:
            where = self._where(ceph, pool, [name for name, _ in unreadable])
            findings.unreadable += [f"{name} ({said}; {where[name]})" for name, said in unreadable]

    @staticmethod
    def _where(ceph, pool, names):
        """Which PG holds each object, in what state, on which OSDs: why it cannot be read."""
        try:
            stats = ceph.ceph_json("pg", "dump", "pgs_brief", timeout=30).get("pg_stats", [])
        except Exception:  # noqa: BLE001 - the finding stands without the PG's state
            stats = []
        by_id = {p["pgid"]: p for p in stats}
        out = {}
        for name in names:
            try:
                pgid = ceph.ceph_json("osd", "map", pool, name, timeout=30)["pgid"]
            except Exception as exc:  # noqa: BLE001
                out[name] = f"PG unknown: {exc}"
                continue
            pg = by_id.get(pgid)
            out[name] = f"PG {pgid} {pg['state']} on {pg['acting']}" if pg else f"PG {pgid}, state unknown"
        return out

    def where(self, record):
        return f"pool {record['pool']}"

    def describe(self, record):
        return f"{record['count']} RADOS objects in pool {record['pool']}"
