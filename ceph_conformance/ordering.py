"""The run's order, also under pytest-xdist: the baseline first, the disruptive checks last and
one at a time, each followed by the gate.

- The plan: every process of the run collects the same checks; the one that runs them writes
  which are disruptive and which are the baseline to the run's session directory.
- Groups and their records: the controller sees every check's report, from every worker, and
  keeps a record (pending, done) of each group of the plan that checks wait for: the other checks
  (barrier.json) and the baseline (first.json). A waiter reads the record, bounded.
- Disruptive checks wait for every other check; one at a time: a run-wide file lock around each.
- The gate after each: its verdict is recorded; when it fails, the disruptive checks after it
  fail without running (they would change a cluster that is already unhealthy).
- Scheduling: under --dist loadscope, loadfile or load, all disruptive checks form one work unit,
  queued last, so one worker runs them in their collection order (scale-out before removal).
- The baseline first: under xdist the other gated checks wait for the baseline (the RADOS
  baseline) to finish (plugin/quiet.py). Otherwise the baseline, measuring alone, waited for
  whatever long set-up another worker had started at the same moment.
"""

import time
from dataclasses import dataclass

from filelock import FileLock, Timeout

from .records import RecordDir
from .waits import WaitTimeout, wait_for

DISRUPTIVE = "disruptive"
FIRST = "baseline"  # the marker of checks that run before all others but the health checks
BARRIER_BOUND = 3600.0  # the other checks are bounded themselves; this only catches a lost worker


@dataclass(frozen=True)
class Group:
    """Checks of the plan whose end others wait for."""
    key: str  # their list in plan.json
    record: str  # the controller's record of them: {"pending": [...], "done": bool}
    what: str  # what a waiter waits for, in its messages
    none: str  # why nothing is waited for when the plan has none of them


OTHERS = Group("other", "barrier.json", "the non-disruptive checks to finish", "no other checks selected")
BASELINE = Group("first", "first.json", "the baseline checks to finish", "no baseline check selected")


class OrderError(Exception):
    """The checks were reordered so that a disruptive check would wait for checks behind it."""


def is_disruptive(item):
    return item.get_closest_marker(DISRUPTIVE) is not None


def order_key(item):
    """Sort key: disruptive checks last, scale-out before node removal (removal may take the node
    scale-out added)."""
    if not is_disruptive(item):
        return 0
    return 2 if item.get_closest_marker("removal") else 1


class Coordinator:
    def __init__(self, session_dir):
        self.records = RecordDir(session_dir)
        self.finished = set()
        self._plan = None

    def _path(self, name):
        return self.records.path(name)

    def _write(self, name, payload):
        self.records.write(name, payload)

    def _read(self, name):
        return self.records.read(name)

    # -- the plan (written by whichever process runs checks) -----------------------------------------
    def write_plan(self, items, is_check):
        checks = [item for item in items if is_check(item)]
        self._write("plan.json", {
            "other": [i.nodeid for i in checks if not is_disruptive(i)],
            "disruptive": [i.nodeid for i in checks if is_disruptive(i)],
            BASELINE.key: [i.nodeid for i in checks if i.get_closest_marker(FIRST) and not is_disruptive(i)],
        })

    def plan(self):
        if self._plan is None:
            self._plan = self._read("plan.json")
        return self._plan

    def disruptive_ids(self):
        return set((self.plan() or {}).get("disruptive", []))

    # -- the groups' records (the controller counts, a worker waits) ---------------------------------
    def note_finished(self, nodeid):
        plan = self.plan()
        if plan is None or nodeid not in plan["other"] or nodeid in self.finished:
            return
        self.finished.add(nodeid)
        for group in (OTHERS, BASELINE):
            if nodeid in plan.get(group.key, ()):
                pending = [n for n in plan[group.key] if n not in self.finished]
                self._write(group.record, {"pending": pending, "done": not pending})

    def is_first(self, nodeid):
        return nodeid in (self.plan() or {}).get(BASELINE.key, ())

    def wait_for_first(self, timeout):
        """Return once the checks that go first (the baseline) have finished, at once when none
        was selected; WaitTimeout past the bound."""
        self._wait_for(BASELINE, timeout, interval=0.2)

    def _wait_for(self, group, timeout, interval):
        """Until the controller's record says every check of the group has finished (at once when
        the plan has none); WaitTimeout naming what is still pending."""
        def probe():
            plan = self.plan()
            if plan is not None and not plan.get(group.key):
                return True, group.none
            record = self._read(group.record)
            if record is None:
                pending = (plan or {}).get(group.key, [])
                return False, f"none has finished yet: {', '.join(pending[:5])}"
            pending = record["pending"]
            return record["done"], f"{len(pending)} still running or queued: {', '.join(pending[:5])}"

        wait_for(probe, what=group.what, timeout=timeout, interval=interval)

    def wait_for_others(self, timeout=BARRIER_BOUND, alone=False):
        """Return once every non-disruptive check of the run has finished (bounded).

        alone: this process runs every check of the run (no xdist). Another check still to come
        then comes after this one, so waiting for it could never end: fail at once instead."""
        if alone:
            plan = self.plan() or {"other": []}
            barrier = self._read(OTHERS.record) or {"pending": plan["other"]}
            if barrier["pending"]:
                raise OrderError(f"{len(barrier['pending'])} non-disruptive checks are ordered after the disruptive "
                                 f"ones (e.g. {barrier['pending'][0]}): an option reordered the checks (--ff, --nf, "
                                 "random order); run the disruptive checks on their own with -m disruptive")
            return

        self._wait_for(OTHERS, timeout, interval=0.5)

    def turn(self, timeout):
        """The run-wide lock a disruptive check holds while it changes the cluster."""
        lock = FileLock(str(self._path("disruptive.lock")), timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise WaitTimeout("the previous disruptive check to finish", timeout, "it still holds the lock") from None
        return lock

    # -- what one disruptive check leaves for the next (e.g. which host failed) -----------------------
    def note(self, name, payload):
        self._write(f"note-{name}.json", payload)

    def read_note(self, name):
        return self._read(f"note-{name}.json")

    def failed_on_purpose(self):
        """OSDs of a host a check made fail and no check has removed yet: the gate accepts them
        down and out (and says so)."""
        failed, removed = self.read_note("failed-host"), self.read_note("removed-host")
        if failed is None or (removed and removed["host"] == failed["host"]):
            return []
        return failed["osds"]

    # -- the gate after each disruptive check ---------------------------------------------------------
    def record_gate(self, nodeid, gate):
        self._write("gate-after.json", {"check": nodeid, "at": time.time(), **gate.to_dict()})

    def gate_failure(self):
        """Why the next disruptive check must not run, or None."""
        last = self._read("gate-after.json")
        if last is None or last["ok"]:
            return None
        problems = "\n".join(f"  - {p}" for p in last["problems"])
        return (f"not run: the HEALTH_OK gate after {last['check'].split('::')[-1]} failed after "
                f"{last['waited_s']:.0f}s, and this check would change an unhealthy cluster:\n{problems}")


def make_scheduler(config, log, coordinator):
    """An xdist scheduler that keeps the disruptive checks together and last, or None."""
    dist = config.getoption("dist", "no")
    if dist not in ("load", "loadscope", "loadfile"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class DisruptiveLastScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            # Work units go out in collection order (which puts disruptive checks last), not
            # largest first.
            if hasattr(config.option, "loadscopereorder"):
                config.option.loadscopereorder = False

        # xdist (3.x) has no public hook for work-unit grouping; _split_scope is the extension point
        # its own loadfile and loadgroup modes override. A unit test drives xdist's real scheduling
        # through it, so an xdist that stops consulting it fails the project's tests, not a run.
        def _split_scope(self, nodeid):
            if nodeid in coordinator.disruptive_ids():
                return "disruptive checks"
            if dist == "load":
                return nodeid
            if dist == "loadfile":
                return nodeid.split("::", 1)[0]
            return nodeid.rsplit("::", 1)[0]

    return DisruptiveLastScheduling(config, log)
