"""Database rows in a database whose data directory is on an RBD volume.

Each verification attaches the volume afresh, starts the database on it, reads every row back
and stops it again: a client reconnecting after the disruption, as a pod rescheduled would. The
rows are compared with the CRC32 of (id, payload) kept as they were generated (clients/rows.py).
"""

from ..clients import rows
from ..payload import GiB
from .base import Part

ROWS, ROW_BYTES = 20_000, 1024


class DatabaseRows(Part):
    kind = "database rows"

    def _storage(self):
        return self.target.block_storage(f"{self.scope}-block", self.namer)  # Unsupported: no block

    def write(self):
        db = self._storage().database(GiB)
        try:
            with db.connect() as conn:
                with conn.cursor() as cur:
                    cur.execute("CREATE DATABASE ledger")
                expected = rows.load(conn, "ledger.entries", ROWS, ROW_BYTES)
        finally:
            db.stop()
        pool, image = db.spec.split("/", 1)
        return {"pool": pool, "image": image, "count": ROWS, **expected.to_record()}

    def verify(self, record, findings):
        db = self._storage().database_of(record["image"])
        try:
            try:
                db.start(timeout=min(120, self.io_timeout))
            except Exception as exc:  # noqa: BLE001 - a database that cannot start is the finding
                findings.error = f"the database did not start on {db.spec}: {exc}"
                return
            with db.connect() as conn:
                seen = rows.read(conn, "ledger.entries")
        finally:
            db.stop()
        difference = rows.compare(seen, rows.RowSet.from_record(record))
        findings.checked = len(record["crc32"])
        findings.missing += [f"id {i}" for i in difference.missing]
        findings.changed += [f"id {i}" for i in difference.changed + difference.extra]

    def where(self, record):
        return f"table ledger.entries on {record['pool']}/{record['image']}"

    def describe(self, record):
        return f"{record['count']} database rows on RBD image {record['pool']}/{record['image']}"
