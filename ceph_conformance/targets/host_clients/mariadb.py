"""The distribution's MariaDB with its datadir on a volume, reachable only by its private socket.

--skip-networking: no TCP port at all, so no port to pick, race for under xdist or expose.

A new datadir is a copy of one made once per run (DatadirTemplate): mariadb-install-db on an RBD
volume took 5 to 7 s, each of its system tables' DDL waiting on flushes through rbd-fuse (0.7 s on
this host's disk), and a run makes three such databases. The copy is flushed to the volume before
the server starts on it; from then on every write the checks make is the server's own, on RBD.
"""

import os
import shutil
from pathlib import Path

import pymysql
from filelock import FileLock, Timeout

from ...clients import sql
from ...commands import run
from ...errors import SetupError
from ...host import processes
from ...waits import wait_for

# The redo log's size is fixed when the datadir is made: a server started with another resizes it.
INNODB = ["--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M"]


def install_db(datadir):
    run(["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--user=root",
         "--auth-root-authentication-method=normal", "--skip-test-db", *INNODB], timeout=180)


class DatadirTemplate:
    """A datadir made once by mariadb-install-db (on this host's disk, under the run's directory)
    and copied into each new database's place. Safe under xdist: the first process to need it
    makes it under a file lock; the others wait for it and copy."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.datadir = self.directory / "datadir"

    def ensure(self, timeout=300):
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(self.directory / "make.lock"), timeout=timeout):
                if not self.datadir.is_dir():
                    partial = self.directory / "partial"
                    shutil.rmtree(partial, ignore_errors=True)
                    install_db(partial)
                    partial.rename(self.datadir)  # complete or absent, never half made
        except Timeout:
            raise SetupError(f"waited {timeout:g}s for another process of the run to make the MariaDB datadir "
                             f"template in {self.directory}: see whether mariadb-install-db hangs there") from None
        return self.datadir

    def copy_to(self, datadir):
        """The template's files at datadir (which must not exist yet), laid out as the installer
        lays them out, and flushed to its filesystem."""
        source = self.ensure()
        # The installer writes a few blocks of its files and preallocates the rest (the redo log:
        # 11 of 8,192 blocks written). Only the blocks with data are copied; each file's full size is
        # then allocated again, unwritten, as InnoDB does, so no zeros go through the volume.
        run(["cp", "-a", "--sparse=always", source, datadir], timeout=120)
        for path in Path(datadir).rglob("*"):
            if path.is_file() and not path.is_symlink() and path.stat().st_size:
                with open(path, "r+b") as f:
                    os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
        run(["sync", "--file-system", datadir], timeout=120)


class MariaDB:
    def __init__(self, datadir, run_dir, op_timeout=60.0):
        self.datadir = Path(datadir)
        self.run_dir = Path(run_dir)
        self.socket = self.run_dir / "mysqld.sock"
        self.client_socket = self.socket  # where clients connect (a proxy may stand in front of the server)
        self.op_timeout = op_timeout  # the budget of each SQL operation (--op-timeout)
        self.pid = None
        self._log_offset = 0  # where this start's part of the error log begins

    def initialize(self, template=None):
        """A new datadir: template's copy (a DatadirTemplate), or mariadb-install-db's."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if template is None:
            install_db(self.datadir)
        else:
            template.copy_to(self.datadir)

    def start(self, timeout=120):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        argv = ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                f"--socket={self.socket}", "--skip-networking",
                f"--pid-file={self.run_dir}/mysqld.pid", f"--log-error={self.run_dir}/error.log",
                *INNODB, "--innodb-flush-log-at-trx-commit=1", "--skip-log-bin"]
        log = self.run_dir / "error.log"
        self._log_offset = log.stat().st_size if log.exists() else 0
        self.pid = processes.start(argv, self.run_dir / "mysqld.stdout", self.datadir)

        def probe():
            if not processes.is_alive(self.pid, str(self.datadir)):
                raise RuntimeError(f"mariadbd exited: {self.log_tail()}")
            try:
                self.connect(op_timeout=2, retry=False).close()
            except pymysql.err.OperationalError as exc:
                return False, str(exc)
            return True, "ready"

        wait_for(probe, what=f"MariaDB on {self.datadir} accepting connections", timeout=timeout, interval=0.3)

    def log_tail(self, lines=5):
        path = self.run_dir / "error.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def log_since_start(self):
        """The error log written since the last start()."""
        path = self.run_dir / "error.log"
        if not path.exists():
            return ""
        with open(path, "rb") as f:
            f.seek(self._log_offset)
            return f.read().decode(errors="replace")

    def ran_crash_recovery(self):
        """Whether InnoDB had to recover at the last start (it does not after a clean shutdown)."""
        return "Starting crash recovery" in self.log_since_start()

    def connect(self, op_timeout=None, retry=True):
        """A connection whose connect and every later operation take at most op_timeout seconds
        (default: the run's --op-timeout), retries included (clients/sql.py)."""
        return sql.connect(budget=op_timeout or self.op_timeout, where=f"socket {self.client_socket}", retry=retry,
                           unix_socket=str(self.client_socket), user="root")

    def stop(self, timeout=120):
        """A clean shutdown (SIGTERM): InnoDB flushes and closes."""
        if self.pid:
            outcome = processes.stop(self.pid, str(self.datadir), timeout=timeout)
            self.pid = None
            return outcome

    def kill(self):
        """A crash: SIGKILL, nothing flushed beyond what was committed."""
        processes.kill(self.pid, str(self.datadir))  # returns once the process is gone
        self.pid = None
