"""A pytest plugin for a suite run: every MariaDB the host block storage starts is reached through
a proxy (sql_proxy.py) that holds every query reading the rows back (`SELECT id, payload`) and
never answers it, as a database that accepts connections and stops answering would. The checks
that read rows must fail within --op-timeout, saying so; the others must pass.

Each held query is appended to the file named by CCONF_SELFTEST_SQL_HELD (epoch seconds, query)."""

import json
import os

from ceph_conformance.targets.host_clients.mariadb import MariaDB

from .sql_proxy import SilentSqlProxy

_start, _stop, _kill = MariaDB.start, MariaDB.stop, MariaDB.kill


def _end_proxy(server):
    proxy = getattr(server, "proxy", None)
    if proxy is not None:
        proxy.close()
        with open(os.environ["CCONF_SELFTEST_SQL_HELD"], "a") as f:
            for when, query in proxy.held:
                f.write(json.dumps({"at": when, "query": query}) + "\n")
        server.proxy = None
        server.client_socket = server.socket


def start(self, timeout=120):
    _start(self, timeout)
    _end_proxy(self)
    path = self.run_dir / "silent-proxy.sock"
    path.unlink(missing_ok=True)
    self.proxy = SilentSqlProxy(self.socket, path)
    self.client_socket = path


def stop(self, timeout=120):
    _end_proxy(self)
    return _stop(self, timeout)


def kill(self):
    _end_proxy(self)
    return _kill(self)


def pytest_configure(config):
    MariaDB.start, MariaDB.stop, MariaDB.kill = start, stop, kill
