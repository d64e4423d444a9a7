"""The distribution's MariaDB with its datadir on a volume, on a private socket and port."""

import time
from pathlib import Path

import pymysql

from ..commands import run
from ..host import processes
from ..waits import wait_for


class MariaDB:
    def __init__(self, datadir, run_dir, port):
        self.datadir = Path(datadir)
        self.run_dir = Path(run_dir)
        self.port = port
        self.socket = self.run_dir / "mysqld.sock"
        self.pid = None

    def initialize(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"], timeout=180)

    def start(self, timeout=120):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        argv = ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
                f"--pid-file={self.run_dir}/mysqld.pid", f"--log-error={self.run_dir}/error.log",
                "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M",
                "--innodb-flush-log-at-trx-commit=1", "--skip-log-bin"]
        self.pid = processes.start(argv, self.run_dir / "mysqld.stdout", self.datadir)

        def probe():
            if not processes.is_alive(self.pid, str(self.datadir)):
                raise RuntimeError(f"mariadbd exited: {self.log_tail()}")
            try:
                self.connect(connect_timeout=2).close()
            except pymysql.err.OperationalError as exc:
                return False, str(exc)
            return True, "ready"

        wait_for(probe, what=f"MariaDB on {self.datadir} accepting connections", timeout=timeout, interval=0.3)

    def log_tail(self, lines=5):
        path = self.run_dir / "error.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def connect(self, connect_timeout=10, io_timeout=120):
        return pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True,
                               connect_timeout=connect_timeout, read_timeout=io_timeout, write_timeout=io_timeout)

    def stop(self, timeout=120):
        """A clean shutdown (SIGTERM): InnoDB flushes and closes."""
        if self.pid:
            outcome = processes.stop(self.pid, str(self.datadir), timeout=timeout)
            self.pid = None
            return outcome

    def kill(self):
        """A crash: SIGKILL, nothing flushed beyond what was committed."""
        processes.kill(self.pid, str(self.datadir))
        self.pid = None
        time.sleep(0.2)
