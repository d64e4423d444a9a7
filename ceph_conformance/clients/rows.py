"""Rows of known content in a MariaDB table: loaded in batches, read back, compared.

The expected content is taken from the rows as this client generated them, never from the
server: a server that returns what its buffer pool holds must not vouch for its storage.
Each row's CRC32 covers its id and payload, so a row that comes back under another id is caught.
"""

import os
import zlib
from dataclasses import dataclass, field

import pymysql.cursors

SCHEMA = "(id INT PRIMARY KEY, payload VARBINARY(1100) NOT NULL) ENGINE=InnoDB"
BATCH = 1000


def _crc(row_id, payload):
    return zlib.crc32(payload, zlib.crc32(row_id.to_bytes(8, "little")))


@dataclass
class RowSet:
    """Each row's CRC32 of (id, payload), by id."""

    crcs: dict = field(default_factory=dict)

    def add(self, row_id, payload):
        self.crcs[row_id] = _crc(row_id, payload)

    def __len__(self):
        return len(self.crcs)

    def updated(self, other):
        """This set with the rows of `other` replacing or adding to its own."""
        return RowSet({**self.crcs, **other.crcs})

    def to_record(self):
        """JSON-able, for the data ledger."""
        return {"crc32": {str(i): crc for i, crc in self.crcs.items()}}

    @classmethod
    def from_record(cls, record):
        return cls({int(i): crc for i, crc in record["crc32"].items()})


def load(conn, table, rows, row_bytes):
    """Create `table` and fill it with `rows` random rows; returns their RowSet."""
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} {SCHEMA}")
    return _write(conn, f"INSERT INTO {table} (id, payload) VALUES (%(id)s, %(payload)s)", range(rows), row_bytes)


def rewrite(conn, table, ids, row_bytes):
    """Give the rows `ids` new random payloads; returns the RowSet of the new rows."""
    return _write(conn, f"UPDATE {table} SET payload = %(payload)s WHERE id = %(id)s", list(ids), row_bytes)


def _write(conn, statement, ids, row_bytes):
    written = RowSet()
    with conn.cursor() as cur:
        for start in range(0, len(ids), BATCH):
            batch = [{"id": i, "payload": os.urandom(row_bytes)} for i in ids[start:start + BATCH]]
            conn.begin()  # one commit per batch: an UPDATE per row would otherwise sync each
            cur.executemany(statement, batch)
            conn.commit()
            for row in batch:
                written.add(row["id"], row["payload"])
    return written


def read(conn, table):
    """The RowSet of every row the server returns, computed here from the bytes it sent."""
    got = RowSet()
    with conn.cursor(pymysql.cursors.SSCursor) as cur:  # streamed: the table is not held in memory
        cur.execute(f"SELECT id, payload FROM {table} ORDER BY id")
        for row_id, payload in cur:
            got.add(row_id, payload)
    return got


@dataclass
class Difference:
    missing: list
    changed: list
    extra: list

    def __bool__(self):
        return bool(self.missing or self.changed or self.extra)

    def __str__(self):
        parts = [f"{len(ids)} rows {what} (ids {_first(ids)})"
                 for what, ids in (("missing", self.missing), ("changed", self.changed), ("extra", self.extra)) if ids]
        return "; ".join(parts)


def compare(got, expected):
    """Rows missing, changed or unexpected in `got`; falsy when the two are identical."""
    missing = sorted(i for i in expected.crcs if i not in got.crcs)
    changed = sorted(i for i, crc in expected.crcs.items() if i in got.crcs and got.crcs[i] != crc)
    extra = sorted(i for i in got.crcs if i not in expected.crcs)
    return Difference(missing, changed, extra)


def _first(ids, limit=5):
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (", ..." if len(ids) > limit else "")
