"""Block storage: an RBD volume carries a real database across restart, crash, re-attach, growth,
snapshot and clone, the way a ReadWriteOnce volume under MySQL is used.

Every check runs under --io-timeout: I/O that blocks (a full pool, inactive PGs) fails the check
with what Ceph's health says.
"""

import os
import subprocess
import threading

import pymysql
import pytest

from ceph_conformance.clients.block import fs_size_bytes
from ceph_conformance.clients.mariadb import MariaDB
from ceph_conformance.host.ports import free_port
from ceph_conformance.payload import MiB, Timer
from fixtures.block import ROW_BYTES, ROWS, GiB

pytestmark = pytest.mark.block


def _same_data(db, what):
    __tracebackhide__ = True
    rows, checksum = db.count(), db.table_checksum()
    assert (rows, checksum) == (db.rows, db.checksum), (
        f"after {what} the table has {rows} rows, checksum {checksum}; before: {db.rows} rows, checksum {db.checksum}")


def test_volume_is_provisioned_with_the_requested_size(database):
    info = database.volume.info()
    assert info["size"] == GiB, f"image {database.volume.spec} is {info['size']} bytes, 1 GiB was asked"
    size = fs_size_bytes(database.volume.mountpoint)
    assert 0.9 * GiB <= size <= GiB, f"the filesystem on it shows {size} bytes"


@pytest.mark.smoke
def test_database_round_trip_spans_many_rados_objects(database, ceph, record_metric):
    _same_data(database, "loading")
    du = ceph.tool_json("rbd", "du", database.volume.spec)["images"][0]
    objects = du["used_size"] // (4 * MiB)
    assert objects >= 10, f"the database occupies only {du['used_size']} bytes ({objects} RADOS objects)"
    record_metric("db_load_rows_per_s", ROWS / database.figures["load_s"], "rows/s")
    record_metric("db_load_MBps", ROWS * ROW_BYTES / 1e6 / database.figures["load_s"], "MB/s")


def test_clean_restart_keeps_every_row(database):
    database.server.stop()
    database.server.start()
    _same_data(database, "a clean restart")


def test_crash_keeps_every_committed_transaction(database):
    committed, stop = [], threading.Event()

    def writer():
        conn = database.server.connect()
        with conn.cursor() as cur:
            i = 0
            while not stop.is_set():
                try:
                    cur.execute("INSERT INTO conformance.txlog VALUES (%s)", (i,))  # autocommit: one txn each
                except pymysql.err.MySQLError:
                    return  # the server was killed under us
                committed.append(i)
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    while len(committed) < 200 and thread.is_alive():
        threading.Event().wait(0.05)
    database.server.kill()  # SIGKILL mid-write
    stop.set()
    thread.join(timeout=60)
    assert len(committed) >= 200, f"only {len(committed)} transactions committed before the crash"
    database.server.start()
    with database.server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM conformance.txlog")
        present = {row[0] for row in cur.fetchall()}
        cur.execute("DELETE FROM conformance.txlog")
    lost = [i for i in committed if i not in present]
    assert not lost, f"{len(lost)} of {len(committed)} committed transactions lost in the crash (first: {lost[:5]})"
    _same_data(database, "a crash and InnoDB recovery")


def test_reattach_as_a_new_client_keeps_data(database):
    database.server.stop()
    database.volume.detach()  # unmount, detach the loop device, end the rbd-fuse client
    database.volume.attach()  # a new rbd-fuse client session, as on another node
    database.server.start()
    _same_data(database, "detaching and attaching the volume again")


def test_online_expansion_keeps_the_database_working(database):
    before = fs_size_bytes(database.volume.mountpoint)
    database.volume.grow(GiB + GiB // 2)
    after = fs_size_bytes(database.volume.mountpoint)
    assert database.volume.info()["size"] == GiB + GiB // 2
    assert after >= before + 0.45 * GiB, f"the filesystem grew from {before} to {after} bytes, not by ~512 MiB"
    with database.server.connect() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO conformance.txlog VALUES (1)")
        cur.execute("DELETE FROM conformance.txlog")
    _same_data(database, "growing the volume online")


def test_snapshot_and_clone_hold_the_data_of_their_moment(database, new_volume, block_dir):
    origin = database.volume
    with database.server.connect() as conn, conn.cursor() as cur:
        # A consistent snapshot of a live database: quiesce tables, freeze the filesystem.
        cur.execute("FLUSH TABLES WITH READ LOCK")
        subprocess.run(["fsfreeze", "--freeze", str(origin.mountpoint)], check=True, timeout=60)
        try:
            origin.snapshot("before-change")
        finally:
            subprocess.run(["fsfreeze", "--unfreeze", str(origin.mountpoint)], check=True, timeout=60)
            cur.execute("UNLOCK TABLES")
        cur.execute("UPDATE conformance.data SET payload = REVERSE(payload) WHERE id < 1000")
    changed = database.table_checksum()
    assert changed != database.checksum

    clone = origin.clone("before-change", origin.image + "-clone")
    clone.attach()
    clone_db = MariaDB(clone.mountpoint / "mysql", block_dir / "clone-db", free_port())
    clone_db.start()
    try:
        with clone_db.connect() as conn, conn.cursor() as cur:
            cur.execute("CHECKSUM TABLE conformance.data EXTENDED")
            at_snapshot = cur.fetchone()[1]
    finally:
        clone_db.stop()
        clone.remove()
    assert at_snapshot == database.checksum, "the clone does not hold the data as it was at the snapshot"
    assert database.table_checksum() == changed, "the origin lost the change made after the snapshot"
    database.checksum = changed


def test_raw_io_pattern_survives_a_fresh_attach(new_volume):
    size, block = 128 * MiB, 4096
    volume = new_volume(size)
    device = volume.map()

    def pattern(i):
        return (i.to_bytes(8, "little") + b"conformance-raw-io" + bytes(6)) * (block // 32)

    fd = os.open(device, os.O_WRONLY)
    try:
        for i in range(size // block):
            os.pwrite(fd, pattern(i), i * block)
        os.fsync(fd)
    finally:
        os.close(fd)
    volume.unmap()
    device = volume.map()  # a new client session reads what the old one wrote
    bad = []
    fd = os.open(device, os.O_RDONLY)
    try:
        for i in range(size // block):
            if os.pread(fd, block, i * block) != pattern(i):
                bad.append(i)
    finally:
        os.close(fd)
        volume.unmap()
    assert not bad, f"{len(bad)} of {size // block} blocks read back wrong after re-attach (first: {bad[:5]})"


def test_sequential_throughput_through_the_mounted_volume(database, record_metric):
    path = database.volume.mountpoint / "throughput.bin"
    size, chunk = 256 * MiB, os.urandom(4 * MiB)
    try:
        with Timer() as write:
            with open(path, "wb") as f:
                for _ in range(size // len(chunk)):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read from the volume, not the page cache
        with Timer() as read:
            while os.read(fd, 4 * MiB):
                pass
        os.close(fd)
    finally:
        path.unlink(missing_ok=True)
    record_metric("rbd_seq_write_256MiB", write.mb_per_s(size), "MB/s")
    record_metric("rbd_seq_read_256MiB", read.mb_per_s(size), "MB/s")
