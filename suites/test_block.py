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

from ceph_conformance.clients import rows
from ceph_conformance.clients.block import chunks_differ, fs_size_bytes, read_uncached, write_sequential
from ceph_conformance.clients.mariadb import MariaDB
from ceph_conformance.payload import MiB
from ceph_conformance.waits import wait_for
from fixtures.block import ROW_BYTES, ROWS, TABLE, GiB

pytestmark = pytest.mark.block


def _same_rows(db, what):
    """Every row reads back as this client generated it (not as the server remembers it)."""
    __tracebackhide__ = True
    try:
        difference = db.difference()
    except pymysql.err.MySQLError as exc:
        pytest.fail(f"after {what}, the rows of {TABLE} on {db.volume.spec} could not be read back: {exc}",
                    pytrace=False)
    assert not difference, (
        f"after {what}, the rows read back from {db.volume.spec} differ from the {len(db.expected)} written: "
        f"{difference}")


def _watchers(volume):
    return {w["client"] for w in volume.ceph.tool_json("rbd", "status", volume.spec).get("watchers", [])}


def test_volume_is_provisioned_with_the_requested_size(database):
    info = database.volume.info()
    assert info["size"] == GiB, f"image {database.volume.spec} is {info['size']} bytes, 1 GiB was asked"
    size = fs_size_bytes(database.volume.mountpoint)
    assert 0.9 * GiB <= size <= GiB, f"the filesystem on it shows {size} bytes"


@pytest.mark.smoke
def test_database_round_trip_spans_many_rados_objects(database, record_metric):
    """40k rows loaded, then read back through a new storage client (MariaDB stopped, the volume
    detached and attached anew, MariaDB started): every row as generated. The load itself, not the
    filesystem and InnoDB skeleton before it, adds at least 10 RADOS objects' worth to the image."""
    f = database.figures
    record_metric("db_load_rows_per_s", ROWS / f["load_s"], "rows/s")
    record_metric("db_load_MBps", ROWS * ROW_BYTES / 1e6 / f["load_s"], "MB/s")
    grown = f["used_after"] - f["used_before"]
    objects = grown // f["object_size"]
    record_metric("db_load_rados_growth", grown / MiB, "MiB")
    assert objects >= 10, (
        f"loading {ROWS} rows of {ROW_BYTES} bytes added only {grown} bytes to {database.volume.spec} "
        f"({objects} RADOS objects of {f['object_size']} bytes; rbd du {f['used_before']} -> {f['used_after']})")
    database.stop()
    database.start()
    _same_rows(database, "loading and reading back through a new storage client")


def test_clean_restart_keeps_every_row(database):
    """A clean shutdown and start of the database, its storage client restarted in between on the
    same host (unmount, loop device, rbd-fuse; then attached again at the same paths): InnoDB
    starts without crash recovery and every row reads back as written."""
    database.stop()
    database.start()
    assert not database.server.ran_crash_recovery(), (
        f"InnoDB ran crash recovery after a clean shutdown: {database.server.log_tail(10)}")
    _same_rows(database, "a clean restart with the storage client restarted")


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
    _same_rows(database, "a crash and InnoDB recovery")


def test_reattach_as_a_new_client_keeps_data(database, new_volume, block_dir):
    """Detached here and attached as another host would: a new Ceph client session (Ceph sees a
    different watcher), its own rbd-fuse mount, loop device, filesystem mount and MariaDB
    directory. Every row reads back as written."""
    before = _watchers(database.volume)  # may include watchers other than ours (the mgr's)
    database.stop()
    database.start(new_volume.elsewhere(database.volume, "node-b"), block_dir / "db-node-b")

    def new_session():
        after = _watchers(database.volume)
        return bool(after - before and before - after), (
            f"Ceph lists watchers {sorted(after)}, before the re-attach {sorted(before)}")

    # A client that ended without closing the image keeps its watch until the OSDs time it out
    # (osd_client_watch_timeout, 30 s): the old session must be gone by then.
    wait_for(new_session, what=f"a new client session on {database.volume.spec} and the old one gone",
             timeout=45, interval=1)
    _same_rows(database, "attaching the volume as a new client elsewhere")


def test_online_expansion_keeps_the_database_working(database):
    before = fs_size_bytes(database.volume.mountpoint)
    database.volume.grow(GiB + GiB // 2)
    after = fs_size_bytes(database.volume.mountpoint)
    assert database.volume.info()["size"] == GiB + GiB // 2
    assert after >= before + 0.45 * GiB, f"the filesystem grew from {before} to {after} bytes, not by ~512 MiB"
    with database.server.connect() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO conformance.txlog VALUES (1)")
        cur.execute("DELETE FROM conformance.txlog")
    _same_rows(database, "growing the volume online")


def test_snapshot_and_clone_hold_the_data_of_their_moment(database, new_volume, block_dir):
    origin = database.volume
    with database.server.connect() as conn:
        with conn.cursor() as cur:
            # A consistent snapshot of a live database: quiesce tables, freeze the filesystem.
            cur.execute("FLUSH TABLES WITH READ LOCK")
            subprocess.run(["fsfreeze", "--freeze", str(origin.mountpoint)], check=True, timeout=60)
            try:
                origin.snapshot("before-change")
            finally:
                subprocess.run(["fsfreeze", "--unfreeze", str(origin.mountpoint)], check=True, timeout=60)
                cur.execute("UNLOCK TABLES")
        changed = database.expected.updated(rows.rewrite(conn, TABLE, range(1000), ROW_BYTES))

    clone = new_volume.clone(origin, "before-change")  # recorded: removed before its origin
    clone_db = MariaDB(clone.mountpoint / "mysql", block_dir / "clone-db")
    try:
        clone.attach()
        clone_db.start()
        with clone_db.connect() as conn:
            on_clone = rows.compare(rows.read(conn, TABLE), database.expected)
    finally:
        clone_db.stop()
        clone.remove()
    assert not on_clone, f"the clone does not hold the rows as they were at the snapshot: {on_clone}"
    database.expected = changed
    _same_rows(database, "changing 1000 rows after the snapshot")


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
    """Measures sequential write (with fsync) and uncached read of 256 MiB through the mounted
    volume: the figures are metrics, not verdicts. The verdict is integrity: every 4 MiB chunk
    read back is the one written (SHA-256 per chunk, each chunk distinct)."""
    path = database.volume.mountpoint / "throughput.bin"
    size = 256 * MiB
    try:
        write_s, written = write_sequential(path, size)
        read_s, read = read_uncached(path)
    finally:
        path.unlink(missing_ok=True)
    record_metric("rbd_seq_write_256MiB", size / 1e6 / write_s, "MB/s")
    record_metric("rbd_seq_read_256MiB", size / 1e6 / read_s, "MB/s")
    wrong = chunks_differ(read, written)
    assert wrong is None, f"{database.volume.spec}: {wrong}"
