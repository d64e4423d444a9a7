"""One disruptive step as a check sees it: wait for Ceph (bounded, failing with the recovery
state), settle to active+clean and HEALTH_OK, verify the ledger, and record what the step did
(OSDs and capacity before and after, recovery time, ledger verdict) for the report.
"""

from dataclasses import dataclass, field

import pytest

from .gate import run_gate
from .recovery import RecoveryTimeout, all_active_clean, gib, topology, wait_until


@dataclass
class Step:
    """What one disruptive step did to the cluster, for the report."""

    step: str
    osds_before: int | None = None
    osds_after: int | None = None
    capacity_before_gib: float | None = None
    capacity_after_gib: float | None = None
    recovery_s: float | None = None
    ledger: str = "not verified"
    ledger_ok: bool | None = None
    notes: list = field(default_factory=list)

    def before(self, topo):
        self.osds_before, self.capacity_before_gib = topo.count, gib(topo.capacity_bytes)

    def after(self, topo):
        self.osds_after, self.capacity_after_gib = topo.count, gib(topo.capacity_bytes)


class Disruption:
    """One disruptive check's handle: settle the cluster, verify the ledger, record the step."""

    def __init__(self, ceph, ledger, options, coordinator, nodeid, step):
        self.ceph = ceph
        self.ledger = ledger
        self.options = options
        self.coordinator = coordinator
        self.nodeid = nodeid
        self.step = step
        self.gated = False
        self.facts = []

    def wait_until(self, condition, what, timeout=None, interval=2.0):
        """recovery.wait_until bounded by --recovery-timeout; a timeout fails the check with the
        recovery state, the step's facts and the ledger's verdict."""
        __tracebackhide__ = True
        try:
            return wait_until(self.ceph, condition, what=what, timeout=timeout or self.options.recovery_timeout,
                              interval=interval)
        except RecoveryTimeout as exc:
            message = str(exc)
        self.fail(message)  # outside the except: the message says it all, without a chained copy

    def settle(self, what):
        """Every PG active+clean within --recovery-timeout, then the HEALTH_OK gate. Returns the
        seconds recovery took; fails with the recovery state or the gate's findings."""
        __tracebackhide__ = True
        seconds = self.wait_until(all_active_clean, what)
        self.step.recovery_s = seconds
        gate = self.gate()
        self.step.notes.append(f"active+clean after {seconds}s, then the gate {gate.waited_s}s")
        if not gate.ok:
            self.fail(f"after {what}, " + gate.message())
        return seconds

    def gate(self):
        """The HEALTH_OK gate after this step, recorded: if it fails, later disruptive checks do not run."""
        gate = run_gate(self.ceph, self.options.gate_timeout, self.options.mute_health,
                        failed_on_purpose=self.coordinator.failed_on_purpose(),
                        stall_window=self.options.gate_stall_window)
        self.coordinator.record_gate(self.nodeid, gate)
        self.gated = True
        return gate

    def verify_ledger(self):
        verdict = self.ledger.verify()
        self.step.ledger, self.step.ledger_ok = verdict.summary(), verdict.ok
        self.step.notes.append(f"ledger read in {verdict.seconds}s")
        return verdict

    def note(self, text):
        """A fact about this step, for the report and for any failure message of the check."""
        self.step.notes.append(text)
        self.facts.append(text)

    def fail(self, message):
        """Fail the check; the step's facts and the ledger's verdict (was data lost or not?) are
        part of the message."""
        __tracebackhide__ = True
        if self.facts:
            message += "\n" + "\n".join(self.facts)
        if self.step.ledger_ok is None:
            verdict = self.verify_ledger()
            message += f"\nledger: {verdict.summary()}"
        pytest.fail(message, pytrace=False)

    def assert_ledger_intact(self):
        __tracebackhide__ = True
        verdict = self.verify_ledger()
        if not verdict.ok:
            self.fail("data lost or changed: " + "\n  ".join(verdict.problems()))

    def topology(self):
        return topology(self.ceph)
