"""The real MariaDB of this host, on a datadir in a temporary directory (no Ceph needed): it listens on
its socket only, tells a clean start from a crash recovery, and the row load/read/compare that the
block checks and the data ledger share finds every row that differs from what was generated."""

import multiprocessing
import os
import shutil
import subprocess

import pytest
from filelock import FileLock

from ceph_conformance.clients import rows
from ceph_conformance.errors import SetupError
from ceph_conformance.targets.host_clients.mariadb import DatadirTemplate, MariaDB

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mariadbd"),
                                reason="needs root and the distribution's mariadb-server")
CTX = multiprocessing.get_context("fork")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("mariadb")
    db = MariaDB(base / "data", base / "run")
    db.initialize()
    db.start()
    try:
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE t")
        yield db
    finally:
        db.stop()


def test_listens_on_its_socket_only(server):
    listening = subprocess.run(["ss", "-H", "-ltunp"], capture_output=True, text=True, check=True).stdout
    mine = [line for line in listening.splitlines() if f"pid={server.pid}," in line]
    assert mine == [], f"mariadbd listens on the network: {mine}"
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@skip_networking")
        assert cur.fetchone()[0] == 1


def test_rows_read_back_match_what_was_generated(server):
    with server.connect() as conn:
        expected = rows.load(conn, "t.same", 2500, 64)
        got = rows.read(conn, "t.same")
    assert len(expected) == len(got) == 2500
    assert not rows.compare(got, expected)
    assert not rows.compare(rows.RowSet.from_record(expected.to_record()), expected)


def test_compare_names_rows_changed_missing_and_extra(server):
    with server.connect() as conn, conn.cursor() as cur:
        expected = rows.load(conn, "t.diff", 1200, 64)
        cur.execute("UPDATE t.diff SET payload = REVERSE(payload) WHERE id IN (3, 1100)")
        cur.execute("DELETE FROM t.diff WHERE id = 7")
        cur.execute("INSERT INTO t.diff VALUES (5000, 'x')")
        difference = rows.compare(rows.read(conn, "t.diff"), expected)
    assert difference.changed == [3, 1100] and difference.missing == [7] and difference.extra == [5000]
    assert str(difference) == "1 rows missing (ids 7); 2 rows changed (ids 3, 1100); 1 rows extra (ids 5000)"


def test_rewritten_rows_are_what_is_expected_afterwards(server):
    with server.connect() as conn:
        before = rows.load(conn, "t.rewrite", 300, 64)
        after = before.updated(rows.rewrite(conn, "t.rewrite", range(10, 20), 64))
        got = rows.read(conn, "t.rewrite")
    assert not rows.compare(got, after)
    assert rows.compare(got, before).changed == list(range(10, 20))


def test_crash_recovery_is_told_from_a_clean_start(tmp_path):
    db = MariaDB(tmp_path / "data", tmp_path / "run")
    db.initialize()
    db.start()
    try:
        db.stop()
        db.start()
        assert not db.ran_crash_recovery(), db.log_since_start()
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE mysql.crashme (id INT PRIMARY KEY) ENGINE=InnoDB")
            cur.execute("INSERT INTO mysql.crashme VALUES (1)")
        db.kill()
        db.start()
        assert db.ran_crash_recovery(), db.log_since_start()
    finally:
        db.stop()


def test_databases_copied_from_one_template_start_clean_and_are_independent(tmp_path):
    """Two datadirs copied from one template: each starts without recovery or a redo log resize
    (the template was made with the server's log size), and what one stores the other lacks."""
    template = DatadirTemplate(tmp_path / "template")
    servers = [MariaDB(tmp_path / f"data-{i}", tmp_path / f"run-{i}") for i in (1, 2)]
    try:
        for db in servers:
            db.initialize(template)
            db.start()
            log = db.log_since_start()
            assert not db.ran_crash_recovery() and "Resiz" not in log, log
            redo = (db.datadir / "ib_logfile0").stat()
            assert redo.st_blocks * 512 >= redo.st_size, "the copy's redo log is not preallocated as the installer's"
        with servers[0].connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE mysql.only_in_one (id INT PRIMARY KEY) ENGINE=InnoDB")
        with servers[1].connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'only_in_one'")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT COUNT(*) FROM mysql.user WHERE user = 'root'")
            assert cur.fetchone()[0] >= 1  # the system tables came with the copy
    finally:
        for db in servers:
            db.stop()
    assert sorted(p.name for p in template.directory.iterdir()) == ["datadir", "make.lock"]



def _hold_lock(path, held, release):
    with FileLock(str(path)):
        held.set()
        release.wait(10)


def test_a_template_another_process_never_finishes_is_refused_in_one_line(tmp_path):
    template = DatadirTemplate(tmp_path / "template")
    template.directory.mkdir()
    held, release = CTX.Event(), CTX.Event()
    maker = CTX.Process(target=_hold_lock, args=(template.directory / "make.lock", held, release))
    maker.start()
    try:
        assert held.wait(10)
        with pytest.raises(SetupError, match=r"waited 0.5s for another process of the run to make the MariaDB "
                                             r"datadir template in .*: see whether mariadb-install-db hangs"):
            template.ensure(timeout=0.5)
        assert not template.datadir.exists()
    finally:
        release.set()
        maker.join(10)
