"""Block storage: an RBD volume carries a real database across restart, crash, re-attach, growth,
snapshot and clone, the way a ReadWriteOnce volume under MySQL is used.

Every check runs under --io-timeout: I/O that blocks (a full pool, inactive PGs) fails the check
with what Ceph's health says.
"""

import threading

import pymysql
import pytest

from ceph_conformance import fio
from ceph_conformance.clients import rows
from ceph_conformance.payload import MiB, chunks_differ
from ceph_conformance.waits import wait_for
from fixtures.block import ROW_BYTES, ROWS, TABLE, GiB

pytestmark = pytest.mark.block


def _same_rows(database, what):
    """Every row reads back as this client generated it (not as the server remembers it)."""
    __tracebackhide__ = True
    try:
        difference = database.difference()
    except pymysql.err.MySQLError as exc:
        pytest.fail(f"after {what}, the rows of {TABLE} on {database.db.spec} could not be read back: {exc}",
                    pytrace=False)
    assert not difference, (
        f"after {what}, the rows read back from {database.db.spec} differ from the {len(database.expected)} "
        f"written: {difference}")


def test_volume_is_provisioned_with_the_requested_size(database):
    """The image has the size asked for, and the filesystem on it shows it."""
    info = database.db.image_info()
    assert info["size"] == GiB, f"image {database.db.spec} is {info['size']} bytes, 1 GiB was asked"
    size = database.db.filesystem_bytes()
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
        f"loading {ROWS} rows of {ROW_BYTES} bytes added only {grown} bytes to {database.db.spec} "
        f"({objects} RADOS objects of {f['object_size']} bytes; rbd du {f['used_before']} -> {f['used_after']})")
    database.db.stop()
    database.db.start()
    _same_rows(database, "loading and reading back through a new storage client")


def test_clean_restart_keeps_every_row(database):
    """A clean shutdown and start of the database, its storage client restarted in between on the
    same host (unmount, loop device, rbd-fuse; then attached again at the same paths): InnoDB
    starts without crash recovery and every row reads back as written."""
    database.db.stop()
    database.db.start()
    assert not database.db.ran_crash_recovery(), (
        f"InnoDB ran crash recovery after a clean shutdown: {database.db.log_tail(10)}")
    _same_rows(database, "a clean restart with the storage client restarted")


def test_crash_keeps_every_committed_transaction(database):
    """Transactions committed one by one (each flushed to the volume at commit) while the node
    crashes: the database and the storage client under it end at once, so only what the storage
    acknowledged as flushed survives. After a fresh attach and InnoDB's recovery, every
    transaction whose commit returned is there."""
    committed, stop = [], threading.Event()

    def writer():
        conn = database.db.connect()
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
    database.db.crash()  # mid-write: the database and its storage client path
    stop.set()
    thread.join(timeout=60)
    assert len(committed) >= 200, f"only {len(committed)} transactions committed before the crash"
    try:
        database.db.start()
    except Exception as exc:  # noqa: BLE001 - a database the crash destroyed is the finding
        pytest.fail(f"after a crash with {len(committed)} transactions committed, the database on {database.db.spec} "
                    f"did not start again: {exc}; its log: {database.db.log_tail(10)}", pytrace=False)
    with database.db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM conformance.txlog")
        present = {row[0] for row in cur.fetchall()}
        cur.execute("DELETE FROM conformance.txlog")
    lost = [i for i in committed if i not in present]
    assert not lost, f"{len(lost)} of {len(committed)} committed transactions lost in the crash (first: {lost[:5]})"
    _same_rows(database, "a crash and InnoDB recovery")


def test_reattach_as_a_new_client_keeps_data(database):
    """Detached here and attached as another node would: a new Ceph client session (Ceph sees a
    different watcher), with its own storage client and database directory. Every row reads back
    as written."""
    before = database.db.client_sessions()  # may include watchers other than ours (the mgr's)
    database.db.move_to_new_client()

    def new_session():
        after = database.db.client_sessions()
        return bool(after - before and before - after), (
            f"Ceph lists watchers {sorted(after)}, before the re-attach {sorted(before)}")

    # A client that ended without closing the image keeps its watch until the OSDs time it out
    # (osd_client_watch_timeout, 30 s): the old session must be gone by then.
    wait_for(new_session, what=f"a new client session on {database.db.spec} and the old one gone",
             timeout=45, interval=1)
    _same_rows(database, "attaching the volume as a new client elsewhere")


def test_online_expansion_keeps_the_database_working(database):
    """Image, loop device and XFS grow online; the new size shows and the database keeps working."""
    before = database.db.filesystem_bytes()
    database.db.grow(GiB + GiB // 2)
    after = database.db.filesystem_bytes()
    size = database.db.image_info()["size"]
    assert size == GiB + GiB // 2, f"image {database.db.spec} is {size} bytes after growing it to 1.5 GiB"
    assert after >= before + 0.45 * GiB, f"the filesystem grew from {before} to {after} bytes, not by ~512 MiB"
    with database.db.connect() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO conformance.txlog VALUES (1)")
        cur.execute("DELETE FROM conformance.txlog")
    _same_rows(database, "growing the volume online")


def test_snapshot_and_clone_hold_the_data_of_their_moment(database):
    """A consistent snapshot and its clone hold the rows of their moment; the origin holds the new ones."""
    database.db.snapshot("before-change")  # consistent: tables read-locked, filesystem frozen
    with database.db.connect() as conn:
        changed = database.expected.updated(rows.rewrite(conn, TABLE, range(1000), ROW_BYTES))
    clone = database.db.clone("before-change")  # a second database, removed before its origin
    try:
        with clone.connect() as conn:
            on_clone = rows.compare(rows.read(conn, TABLE), database.expected)
    finally:
        clone.stop()
    assert not on_clone, f"the clone does not hold the rows as they were at the snapshot: {on_clone}"
    database.expected = changed
    _same_rows(database, "changing 1000 rows after the snapshot")


def test_raw_io_pattern_survives_a_fresh_attach(block_storage):
    """A pattern written across the raw device reads back intact through a new client."""
    size, block = 128 * MiB, 4096

    def pattern(i):
        return (i.to_bytes(8, "little") + b"conformance-raw-io" + bytes(6)) * (block // 32)

    device = block_storage.raw_device(size)
    device.write(0, b"".join(pattern(i) for i in range(size // block)))  # direct I/O, then flushed
    device.reattach()  # a new client session reads what the old one wrote
    try:
        data = device.read(0, size)
    finally:
        device.detach()
    bad = [i for i in range(size // block) if data[i * block:(i + 1) * block] != pattern(i)]
    assert len(data) == size and not bad, (
        f"{len(bad)} of {size // block} blocks read back wrong after re-attach (first: {bad[:5]}; "
        f"{len(data)} of {size} bytes read)")


@pytest.mark.measures
def test_sequential_throughput_through_the_mounted_volume(database, record_metric, fio_profile):
    """Measures sequential write (with fsync) and uncached read of 256 MiB through the mounted
    volume, then fio on the same volume (kubestr's profile and the suite's own pattern,
    ceph_conformance/fio.py): the figures are metrics, not verdicts. The verdict is integrity:
    every 4 MiB chunk read back is the one written (SHA-256 per chunk, each chunk distinct), and
    every fio job ran without an error."""
    size, chunk = 256 * MiB, 4 * MiB
    try:
        write_s, written = database.db.write_file("throughput.bin", size, chunk)
        read_s, read = database.db.read_file("throughput.bin", chunk)
    finally:
        database.db.remove_file("throughput.bin")
    record_metric("rbd_seq_write_256MiB", size / 1e6 / write_s, "MB/s")
    record_metric("rbd_seq_read_256MiB", size / 1e6 / read_s, "MB/s")
    wrong = chunks_differ(read, written, chunk)
    assert wrong is None, f"{database.db.spec}: {wrong}"
    # fio on the same volume (ceph_conformance/fio.py), its own run of this pattern first.
    fio_profile(lambda timeout: database.db.run_fio(fio.arguments("256M"), timeout=timeout), "fio_rbd",
                database.db.spec)

