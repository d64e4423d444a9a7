"""The run's one cluster and its gate, shared by every pytest process of the run.

Under pytest-xdist each worker asks for the cluster; the first one to take the file lock brings
it up (or connects), records the outcome in the run's session directory, and the others reuse
that record. The same holds for the start-of-run HEALTH_OK gate. The controller tears down.
"""

import time
import traceback

from filelock import FileLock, Timeout

from .errors import CommandError, SetupError
from .gate import GateResult, run_gate
from .records import RecordDir
from .secrets import scrub
from .waits import WaitTimeout

EXPECTED = (SetupError, CommandError, WaitTimeout)


class ClusterSession:
    def __init__(self, run, options, target, progress):
        self.run = run
        self.options = options
        self.target = target
        self.progress = progress
        self._cluster = None
        self._gate = None
        self.records = RecordDir(run.session_dir)
        run.session_dir.mkdir(parents=True, exist_ok=True)

    # -- shared records -------------------------------------------------------------------------
    def _path(self, name):
        return self.records.path(name)

    def read(self, name):
        return self.records.read(name)

    def _write(self, name, record):
        self.records.write(name, record)

    def once(self, name, bound, make):
        """make() once per run, behind a file lock; every process gets its record."""
        try:
            with FileLock(str(self._path(name + ".lock")), timeout=bound):
                record = self.read(name)
                if record is None:
                    record = make()
                    self._write(name, record)
        except Timeout:
            record = {"ok": False, "error": f"waited {bound:.0f}s for another process of the run to finish {name}"}
        return record

    # -- cluster ------------------------------------------------------------------------------------
    def cluster(self):
        """The bring-up record: {"ok", "description"|"error", "seconds", "facts"}."""
        if self._cluster is None:
            record = self.once("cluster.json", 1200, self._bring_up)
            if record["ok"]:
                self.target.attach(self.run.run_dir, record["description"])
            self._cluster = record
        return self._cluster

    def _bring_up(self):
        t0 = time.monotonic()
        started_at = round(time.time(), 3)  # where the report's timeline starts
        self.progress(f"bringing up target {self.target.name} (run {self.run.run_id})")
        try:
            description = self.target.bring_up(self.run.run_dir, self.progress)
        except EXPECTED as exc:
            return {"ok": False, "error": scrub(f"cluster bring-up failed: {exc}"), "seconds": _since(t0),
                    "started_at": started_at}
        except Exception as exc:  # noqa: BLE001 - recorded with its traceback, shown to every check
            tb = scrub(traceback.format_exc())
            return {"ok": False, "error": f"cluster bring-up failed: {type(exc).__name__}: {scrub(str(exc))}",
                    "traceback": tb, "seconds": _since(t0), "started_at": started_at}
        seconds = _since(t0)
        self.progress(f"target {self.target.name} ready after {seconds:.1f}s")
        return {"ok": True, "description": description, "seconds": seconds, "started_at": started_at,
                "facts": self.facts()}

    def facts(self):
        client = self.target.client(timeout=30)
        facts = {}
        try:
            versions = client.ceph_json("versions").get("overall", {})
            facts["ceph_versions"] = sorted(" ".join(v.split()[2:3] + v.split()[4:5]) for v in versions)
            status = client.ceph_json("status")
            facts["osd_count"] = status["osdmap"]["num_osds"]
            facts["mon_count"] = status["monmap"]["num_mons"]
            # The replication the checks ran against: "size/min_size" -> number of pools.
            sizes = [f"{p['size']}/{p['min_size']}" for p in client.ceph_json("osd", "pool", "ls", "detail")]
            facts["pool_sizes"] = {s: sizes.count(s) for s in sorted(set(sizes))}
            facts["raw_bytes"] = status["pgmap"].get("bytes_total", 0)
            facts["pools"] = status["pgmap"].get("num_pools", 0)
            facts["pgs"] = status["pgmap"].get("num_pgs", 0)
        except EXPECTED as exc:
            facts["error"] = scrub(str(exc))
        return facts

    # -- gate ---------------------------------------------------------------------------------------
    def start_gate(self):
        if self._gate is None:
            record = self.once("gate-start.json", self.options.gate_timeout + 300, self._run_gate)
            self._gate = GateResult(**record) if "waited_s" in record else GateResult(
                ok=False, waited_s=0, timeout_s=self.options.gate_timeout, problems=[record["error"]])
        return self._gate

    def _run_gate(self):
        self.progress(f"waiting for HEALTH_OK (bound {self.options.gate_timeout:.0f}s)")
        result = run_gate(self.target.client(timeout=60), self.options.gate_timeout, self.options.mute_health,
                          stall_window=self.options.gate_stall_window)
        self.progress(result.message().splitlines()[0])
        return result.to_dict()

    def end_gate(self, failed_on_purpose=()):
        """The gate once more at the end of the run: a run that leaves the cluster unhealthy fails."""
        self.progress("final HEALTH_OK gate")
        result = run_gate(self.target.client(timeout=60), self.options.gate_timeout, self.options.mute_health,
                          failed_on_purpose=failed_on_purpose, stall_window=self.options.gate_stall_window)
        self._write("gate-end.json", result.to_dict())
        return result

    def failure_for(self, gated):
        """Why a check must fail without running, or None: bring-up failed, or the gate did."""
        cluster = self.cluster()
        if not cluster["ok"]:
            return cluster["error"]
        gate = self.start_gate()
        if gated and not gate.ok:
            return gate.message()
        return None


def _since(t0):
    return round(time.monotonic() - t0, 2)
