"""RADOS objects in a pool of the run's own, read back with a per-operation timeout.

A read of an object whose PG has no live copy waits forever unless the client gives up:
`rados_osd_op_timeout` makes it fail with ETIMEDOUT, and the finding names the object's PG,
its state and the OSDs it last lived on.
"""

from concurrent.futures import ThreadPoolExecutor

from ..dataplane.ceph_session import rados_object
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
        rng = sizes_rng(1)
        objects = {}
        for n in range(COUNT):
            name = f"obj-{n:03d}"
            data = payload(rng, 4 * 1024, 256 * 1024)
            put = rados_object(ceph.tools, "put", pool, name, data, timeout=120)
            if put is None:  # no session: the tool, from stdin
                ceph.tool_bytes("rados", "-p", pool, "put", name, "-", input=data, timeout=120)
            elif put.returncode != 0:
                raise CommandError(put.argv, put.returncode, put.stderr.decode(errors="replace"))
            objects[name] = sha256(data)
        return {"pool": pool, "count": COUNT, "objects": objects}

    def verify(self, record, findings):
        ceph = self.target.client()
        tools = self.target.tools()
        pool = record["pool"]

        def read(name):
            args = ["-p", pool, "get", name, "-",  # to stdout
                    f"--rados_osd_op_timeout={OP_TIMEOUT}", f"--rados_mon_op_timeout={OP_TIMEOUT}"]
            try:
                # A session's reads have the same OSD op timeout (ceph_session.OSD_OP_TIMEOUT).
                result = rados_object(tools, "get", pool, name, timeout=OP_TIMEOUT + 30) \
                    or tools.call("rados", args, timeout=OP_TIMEOUT + 30)
            except CommandError as exc:
                return name, "unreadable", str(exc)
            if result.returncode != 0:
                # "error getting pool/obj: (110) Connection timed out": the errno part says it.
                said = " ".join((result.stderr or result.stdout).decode(errors="replace").split())
                said = said.rsplit(": ", 1)[-1][-200:]
                kind = "missing" if "No such file or directory" in said else "unreadable"
                return name, kind, said
            return name, "ok" if sha256(result.stdout) == record["objects"][name] else "changed", ""

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
