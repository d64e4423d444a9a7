"""Ghost on this host: `node index.js` of the Ghost package in the cache (host/npminstall.py), in
production mode on loopback, its content directory in CephFS as one ceph-fuse client sees it, its
database in the MariaDB on an RBD volume (block.py), reached through that server's private socket.

Configuration is Ghost's own environment variables (nconf, `__` between levels); the database
password only there, never on a command line or in a file of the repository. The process carries
the run's mark (host/processes.py): teardown and the sweep stop exactly it.

Ghost 5 targets MySQL 8; here the database is Debian's MariaDB 10.11. Ghost's migrations and the
admin API work there (measured: see docs/areas.md); Ghost logs that the database is not supported.
"""

import os
import re
import secrets
import shutil
from itertools import count
from pathlib import Path

from ...clients.appdb import create_app_database
from ...clients.web import http_get
from ...dataplane.sharedfs import GhostApp
from ...errors import SetupError, Unsupported
from ...host import npminstall, processes
from ...host.ports import free_port
from ...secrets import register
from ...waits import GiveUp, WaitTimeout, wait_for
from .block import HostDatabase

READY_PATH = "/ghost/api/admin/site/"  # 503 while Ghost boots (and migrates), 200 once it serves
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class GhostSites:
    """The Ghost sites of one shared filesystem: a site is (database, content path), with its own
    database name, user and password in that database server, whichever client serves it."""

    def __init__(self, work_dir):
        self.work_dir = Path(work_dir)
        self.sites = {}
        self.apps = []
        self._ids = count(1)

    def app(self, client, database, path):
        if not isinstance(database, HostDatabase):
            raise Unsupported(f"Ghost on this host needs a database of this host's block storage, not {database!r}")
        key = (database.spec, path)
        if key not in self.sites:
            n = len(self.sites) + 1
            self.sites[key] = {"database": f"ghost_{n}", "user": f"ghost_{n}",
                               "password": register(secrets.token_urlsafe(24))}
        app = HostGhost(npminstall.ensure_ghost(), client, path, database, self.sites[key],
                        self.work_dir / f"ghost-{next(self._ids)}")
        self.apps.append(app)
        return app

    def close(self):
        problems = []
        for app in self.apps:
            pid, outcome = app.pid, app.stop()
            if outcome and outcome.startswith("still running"):
                problems.append(f"Ghost (pid {pid}) {outcome}")
        return problems


class HostGhost(GhostApp):
    def __init__(self, ghost_dir, client, path, database, site, run_dir):
        self.ghost_dir = Path(ghost_dir)
        self.client = client
        self.content_path = path
        self.content = client.host_path(path)
        self.database = database
        self.site = site
        self.database_name = site["database"]
        self.run_dir = Path(run_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.run_dir / "ghost.log"
        self.pid = None
        self._log_offset = 0  # where this start's part of the log begins

    def _prepare_content(self):
        """Ghost's content directory as its installer makes one: the package's content/ (the
        default theme, Casper) copied in where it is missing, as the official image does."""
        self.content.mkdir(parents=True, exist_ok=True)
        for entry in sorted((self.ghost_dir / "content").iterdir()):
            dest = self.content / entry.name
            if entry.is_dir() and not dest.exists():
                shutil.copytree(entry, dest)

    def _environment(self, node):
        socket = self.database.server.socket
        env = {
            "NODE_ENV": "production",
            "url": self.url,
            "server__host": "127.0.0.1",
            "server__port": str(self.port),
            "database__client": "mysql",
            "database__connection__socketPath": str(socket),
            "database__connection__user": self.site["user"],
            "database__connection__password": self.site["password"],
            "database__connection__database": self.site["database"],
            "database__connection__charset": "utf8mb4",
            "paths__contentPath": str(self.content),
            # Ghost's log goes to stdout, which is the log file in the run dir; none in content/.
            "logging__transports": '["stdout"]',
            "logging__level": "info",
            # No call home: no update check, Gravatar, RPC pings or other outside services.
            "privacy__useTinfoil": "true",
            # Staff sign-in from a new device is verified by a code sent by mail, and this host
            # sends no mail: the check signs in with the password alone.
            "security__staffDeviceVerification": "false",
            # Uploads stored as sent: sharp (Ghost's optional image resizer) is not installed
            # (host/npminstall.py), and the checks compare the image's bytes end to end.
            "imageOptimization__resize": "false",
            # Uploads are staged in the OS's temp dir: the run's own, removed with it.
            "TMPDIR": str(self.run_dir / "tmp"),
            "PATH": f"{Path(node).parent}:{os.environ.get('PATH', '')}",
        }
        return env

    def start(self, timeout=600):
        node = npminstall.need_node()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "tmp").mkdir(exist_ok=True)
        with self.database.connect() as conn:
            create_app_database(conn, self.site["database"], self.site["user"], self.site["password"])
        self._prepare_content()
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        # Its working directory is its package: Ghost finds its package.json (its version) from there.
        self.pid = processes.start([node, self.ghost_dir / "index.js"], self.log, self.run_dir,
                                   env=self._environment(node), cwd=self.ghost_dir)

        def probe():
            if not processes.is_alive(self.pid, str(self.run_dir)):
                raise GiveUp(f"Ghost exited; its log ends: {self.log_tail()}")
            status, _ = http_get(self.url + READY_PATH, timeout=10)
            return status == 200, f"HTTP {status} from {READY_PATH}"

        try:
            wait_for(probe, what=f"Ghost on {self.url} (content in CephFS as {self.client.name} sees it, "
                     f"database {self.database_name} on {self.database.spec})", timeout=timeout, interval=1)
        except GiveUp as exc:
            self.stop()
            raise SetupError(str(exc)) from None
        except WaitTimeout as exc:
            self.stop()
            raise SetupError(f"{exc}; its log ends: {self.log_tail()}") from None

    def log_tail(self, lines=10):
        if not self.log.exists():
            return "(no log)"
        with open(self.log, "rb") as f:
            f.seek(self._log_offset)
            text = f.read().decode(errors="replace")
        text = ANSI.sub("", text)  # Ghost colours its log lines
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(empty)"

    def stop(self):
        if self.pid:
            outcome = processes.stop(self.pid, str(self.run_dir), timeout=30)
            self.pid = None
            return outcome
        return None
