"""One run of the suite: its id, its directories, and run-scoped resource names."""

import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "cconf"
_RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")


def new_run_id():
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def valid_run_id(run_id):
    return bool(_RUN_ID.match(run_id))


@dataclass
class Run:
    run_id: str
    run_dir: Path
    report_dir: Path
    worker: str = "main"
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def session_dir(self):
        return self.run_dir / "session"

    def name(self, kind):
        """A resource name unique to this run and process: cconf-<run-id>-<worker>-<kind>-<n>.

        Lowercase and short enough for S3 bucket names (63 characters)."""
        name = f"{PREFIX}-{self.run_id}-{self.worker}-{kind}-{next(self._counter)}".lower()
        return name[:63]

    @property
    def prefix(self):
        """What every resource of this run starts with (for cleanup sweeps)."""
        return f"{PREFIX}-{self.run_id}-"


def worker_id():
    return os.environ.get("PYTEST_XDIST_WORKER", "main")
