"""Database rows in MariaDB whose datadir is on an RBD volume.

Each verification maps the volume afresh, starts MariaDB on it, reads every row's CRC32 and
stops it again: a client reconnecting after the disruption, as a pod rescheduled would.
"""

import os

from ..clients.mariadb import MariaDB
from ..host.ports import free_port
from .base import Part

ROWS, ROW_BYTES = 20_000, 1024
GiB = 1024**3


class DatabaseRows(Part):
    kind = "database rows"

    def _volume(self, image):
        return self.target.block_volume(self.work_dir / "block", image)  # Unsupported: no block

    def _server(self, volume):
        return MariaDB(volume.mountpoint / "mysql", self.work_dir / "db", free_port())

    def write(self):
        volume = self._volume(self.namer("ledger-db")).create(GiB)
        volume.attach(mkfs=True)
        server = self._server(volume)
        try:
            server.initialize()
            server.start()
            with server.connect() as conn, conn.cursor() as cur:
                cur.execute("CREATE DATABASE ledger")
                cur.execute("CREATE TABLE ledger.entries (id INT PRIMARY KEY, payload VARBINARY(1100) NOT NULL) "
                            "ENGINE=InnoDB")
                for start in range(0, ROWS, 1000):
                    cur.executemany("INSERT INTO ledger.entries VALUES (%s, %s)",
                                    [(i, os.urandom(ROW_BYTES)) for i in range(start, start + 1000)])
            crcs = self._crcs(server)
        finally:
            server.stop()
            volume.detach()
        return {"pool": volume.pool, "image": volume.image, "count": ROWS, "crc32": crcs}

    @staticmethod
    def _crcs(server):
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, CRC32(payload) FROM ledger.entries ORDER BY id")
            return {str(i): crc for i, crc in cur.fetchall()}

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
            seen = self._crcs(server)
        finally:
            server.stop()
            volume.detach()
        for row_id, crc in record["crc32"].items():
            findings.checked += 1
            if row_id not in seen:
                findings.missing.append(f"id {row_id}")
            elif seen[row_id] != crc:
                findings.changed.append(f"id {row_id}")

    def cleanup(self, record):
        self._volume(record["image"]).remove()

    def where(self, record):
        return f"table ledger.entries on {record['pool']}/{record['image']}"

    def describe(self, record):
        return f"{record['count']} database rows on RBD image {record['pool']}/{record['image']}"
