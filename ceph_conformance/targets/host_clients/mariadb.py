"""The distribution's MariaDB with its datadir on a volume, reachable only by its private socket.

--skip-networking: no TCP port at all, so no port to pick, race for under xdist or expose.
"""

from pathlib import Path

import pymysql

from ...clients import sql
from ...commands import run
from ...host import processes
from ...waits import wait_for


class MariaDB:
    def __init__(self, datadir, run_dir, op_timeout=60.0):
        self.datadir = Path(datadir)
        self.run_dir = Path(run_dir)
        self.socket = self.run_dir / "mysqld.sock"
        self.client_socket = self.socket  # where clients connect (a proxy may stand in front of the server)
        self.op_timeout = op_timeout  # the budget of each SQL operation (--op-timeout)
        self.pid = None
        self._log_offset = 0  # where this start's part of the error log begins

    def initialize(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"], timeout=180)

    def start(self, timeout=120):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        argv = ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                f"--socket={self.socket}", "--skip-networking",
                f"--pid-file={self.run_dir}/mysqld.pid", f"--log-error={self.run_dir}/error.log",
                "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M",
                "--innodb-flush-log-at-trx-commit=1", "--skip-log-bin"]
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
