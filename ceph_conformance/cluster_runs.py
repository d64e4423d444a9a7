"""Which runs are alive on a cluster the suite shares with others.

Each run on an existing cluster keeps a record in the mons' config-key store,
`cconf/runs/<run-id>` = {host, pid, create_time, started, heartbeat}: the admin keyring can write
it, its name carries the suite's prefix, and the run removes it at its end. A later run (or
`python -m ceph_conformance sweep-cluster`) removes the resources of a run only when that run is
provably dead: its owner process on this host is gone, or its heartbeat is older than a bound.
"""

import json
import socket
import threading
import time

from .errors import CommandError
from .host.sweep import MARKER, _owner_alive
from .run import PREFIX, valid_run_id

KEY_PREFIX = f"{PREFIX}/runs/"
HEARTBEAT_S = 30.0
# Well above the heartbeat interval: a run is only declared dead after many missed beats.
STALE_AFTER_S = 600.0


def owner_of(run_dir):
    """The run's controller, as the run directory's marker names it (bring-up may run in a worker)."""
    try:
        marker = json.loads((run_dir / MARKER).read_text())
    except (OSError, ValueError):
        marker = {}
    return {"host": socket.gethostname(), "pid": marker.get("pid"), "create_time": marker.get("create_time")}


def write(ceph, run_id, record):
    # Through stdin (-i -): the value never shows in a process list.
    ceph.ceph("config-key", "set", KEY_PREFIX + run_id, "-i", "-", input=json.dumps(record), timeout=30)


def remove(ceph, run_id):
    ceph.ceph("config-key", "rm", KEY_PREFIX + run_id, timeout=30)


def records(ceph):
    """{run_id: record} of every run that has a record on the cluster."""
    dump = ceph.ceph_json("config-key", "dump", KEY_PREFIX, timeout=30)
    found = {}
    for key, value in dump.items():
        run_id = key[len(KEY_PREFIX):]
        if key.startswith(KEY_PREFIX) and valid_run_id(run_id):
            try:
                found[run_id] = json.loads(value)
            except ValueError:
                found[run_id] = {}
    return found


def run_id_of(name):
    """The run id in a resource name `cconf-<run-id>-...` (or `client.cconf-...`), or None."""
    name = name.removeprefix("client.").lstrip("/")
    if not name.startswith(PREFIX + "-"):
        return None
    run_id = name[len(PREFIX) + 1:len(PREFIX) + 1 + 20]
    rest = name[len(PREFIX) + 1 + 20:]
    return run_id if valid_run_id(run_id) and rest.startswith("-") else None


def started_at(run_id):
    return time.mktime(time.strptime(run_id[:15], "%Y%m%d-%H%M%S")) - time.timezone


def dead_reason(run_id, record, now=None, host=None):
    """Why the run is provably dead, or None while it may be alive."""
    now = time.time() if now is None else now
    host = host or socket.gethostname()
    if record is None:
        # A run writes its record when it connects, right after it starts: with no record, only a
        # run that started long ago is known to be over (it ended, or never got that far).
        age = now - started_at(run_id)
        return f"no record, started {age:.0f}s ago" if age > STALE_AFTER_S else None
    if record.get("host") == host and record.get("pid") and not _owner_alive(record):
        return f"its owner pid {record['pid']} on this host is gone"
    beat = record.get("heartbeat") or 0
    if now - beat > STALE_AFTER_S:
        return f"no heartbeat for {now - beat:.0f}s"
    return None


class Heartbeat:
    """Keeps the run's record fresh while the run lives."""

    def __init__(self, ceph, run_id, owner, interval=HEARTBEAT_S):
        self.ceph, self.run_id, self.interval = ceph, run_id, interval
        self.record = {**owner, "started": time.time(), "heartbeat": time.time()}
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        write(self.ceph, self.run_id, self.record)  # the first beat fails loudly: no record, no run
        self._thread = threading.Thread(target=self._beat, name=f"cconf-heartbeat-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def _beat(self):
        while not self._stop.wait(self.interval):
            self.record["heartbeat"] = time.time()
            try:
                write(self.ceph, self.run_id, self.record)
            except CommandError:
                pass  # a missed beat is retried next interval; many missed beats mark the run dead

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=35)
