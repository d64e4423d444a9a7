"""Every SQL operation is bounded by one budget, retries included (clients/sql.py): against the
host's real MariaDB behind a proxy that goes silent on chosen queries, against a socket that
accepts and never speaks, and against a socket that appears only after a while."""

import os
import shutil
import socket
import threading
import time

import pymysql
import pytest

from ceph_conformance.clients import rows, sql
from ceph_conformance.targets.host_clients.mariadb import MariaDB
from tests.integration.sql_proxy import SilentSqlProxy

needs_mariadb = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mariadbd"),
                                   reason="needs root and the distribution's mariadb-server")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("mariadb")
    db = MariaDB(base / "data", base / "run", op_timeout=3)
    db.initialize()
    db.start()
    try:
        with db.connect() as conn:
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE t")
            rows.load(conn, "t.data", 300, 64)
        yield db
    finally:
        db.stop()


@needs_mariadb
def test_a_query_the_database_never_answers_fails_within_the_budget(server, tmp_path):
    proxy = SilentSqlProxy(server.socket, tmp_path / "proxy.sock")
    try:
        conn = sql.connect(budget=3, where="the proxy", unix_socket=proxy.path, user="root")
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM t.data")  # passed on: the connection works
            assert cur.fetchone()[0] == 300
            t0 = time.monotonic()
            with pytest.raises(sql.OperationTimedOut) as info:
                rows.read(conn, "t.data")  # SELECT id, payload: held by the proxy
            took = time.monotonic() - t0
    finally:
        proxy.close()
    assert len(proxy.held) == 1 and proxy.passed >= 1, (proxy.held, proxy.passed)
    assert 2.5 < took < 4.5, f"the held query failed after {took:.1f}s for a 3 s budget"
    assert isinstance(info.value, pymysql.err.OperationalError)  # what the checks catch
    said = info.value.args[1]
    assert said.startswith("the database at the proxy accepted the connection but did not answer within 3s"), said
    assert "SELECT id, payload FROM t.data" in said, said


@needs_mariadb
def test_each_operation_gets_its_own_budget(server):
    """Several operations on one connection, together longer than the budget, all pass."""
    with server.connect(op_timeout=1.5) as conn, conn.cursor() as cur:
        for _ in range(3):
            cur.execute("SELECT SLEEP(0.8)")
            assert cur.fetchone()[0] == 0
        with pytest.raises(sql.OperationTimedOut, match=r"did not answer within 1.5s .*SELECT SLEEP\(3\)"):
            cur.execute("SELECT SLEEP(3)")


def test_a_server_that_accepts_and_never_greets_fails_the_connect_within_the_budget(tmp_path):
    path = str(tmp_path / "silent.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)  # the kernel accepts; nobody ever says a word
    try:
        t0 = time.monotonic()
        with pytest.raises(sql.OperationTimedOut, match=r"did not answer within 2s .*doing: connecting"):
            sql.connect(budget=2, where=f"socket {path}", unix_socket=path, user="root")
        took = time.monotonic() - t0
    finally:
        listener.close()
    assert 1.8 < took < 3, took


def test_connecting_is_retried_within_the_budget_and_then_says_how_often(tmp_path):
    path = str(tmp_path / "missing.sock")
    t0 = time.monotonic()
    with pytest.raises(pymysql.err.OperationalError, match=r"could not connect to the database at nowhere "
                                                           r"within 1.5s \(--op-timeout, \d+ attempts\)"):
        sql.connect(budget=1.5, where="nowhere", unix_socket=path, user="root")
    assert 1.2 < time.monotonic() - t0 < 2.2


@needs_mariadb
def test_a_socket_that_appears_late_is_connected_to_within_the_budget(server, tmp_path):
    path = tmp_path / "late.sock"
    proxies = []
    later = threading.Timer(1.0, lambda: proxies.append(SilentSqlProxy(server.socket, path)))
    later.start()
    try:
        with sql.connect(budget=5, where="late", unix_socket=str(path), user="root") as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone()[0] == 1
    finally:
        later.join()
        for p in proxies:
            p.close()
