"""Database rows in MariaDB whose datadir is on an RBD volume.

Each verification maps the volume afresh, starts MariaDB on it, reads every row back and stops
it again: a client reconnecting after the disruption, as a pod rescheduled would. The rows are
compared with the CRC32 of (id, payload) kept as they were generated (clients/rows.py).
"""

from ..clients import rows
from ..clients.mariadb import MariaDB
from ..payload import GiB
from .base import Part

ROWS, ROW_BYTES = 20_000, 1024


class DatabaseRows(Part):
    kind = "database rows"

    def _volume(self, image):
        return self.target.block_volume(self.work_dir / "block", image)  # Unsupported: no block

    def _server(self, volume):
        return MariaDB(volume.mountpoint / "mysql", self.work_dir / "db")

    def write(self):
        volume = self._volume(self.namer("ledger-db")).create(GiB)
        volume.attach(mkfs=True)
        server = self._server(volume)
        try:
            server.initialize()
            server.start()
            with server.connect() as conn:
                with conn.cursor() as cur:
                    cur.execute("CREATE DATABASE ledger")
                expected = rows.load(conn, "ledger.entries", ROWS, ROW_BYTES)
        finally:
            server.stop()
            volume.detach()
        return {"pool": volume.pool, "image": volume.image, "count": ROWS, **expected.to_record()}

    def verify(self, record, findings):
        volume = self._volume(record["image"])
        volume.attach()
        server = self._server(volume)
        try:
            try:
                server.start(timeout=min(120, self.io_timeout))
            except Exception as exc:  # noqa: BLE001 - a database that cannot start is the finding
                findings.error = f"MariaDB did not start on {volume.spec}: {exc}"
                return
            with server.connect() as conn:
                seen = rows.read(conn, "ledger.entries")
        finally:
            server.stop()
            volume.detach()
        difference = rows.compare(seen, rows.RowSet.from_record(record))
        findings.checked = len(record["crc32"])
        findings.missing += [f"id {i}" for i in difference.missing]
        findings.changed += [f"id {i}" for i in difference.changed + difference.extra]

    def where(self, record):
        return f"table ledger.entries on {record['pool']}/{record['image']}"

    def describe(self, record):
        return f"{record['count']} database rows on RBD image {record['pool']}/{record['image']}"
