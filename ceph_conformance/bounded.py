"""Storage operations that may block (a full pool, a stopped MDS, an inactive PG) run under a bound.

Ceph does not refuse I/O it cannot serve, it waits: a write to a full pool or to a PG without
enough replicas blocks. A check must fail within its bound instead, and say why. The operation
runs in a daemon thread (a thread stuck in a FUSE call cannot be cancelled, and must not keep the
process alive); on timeout the failure names what was awaited and what Ceph's health says.

A thread abandoned at its bound may resume once the storage recovers, and would then touch
mounts and volumes that teardown is removing. Abandoned threads are therefore registered here:
`settle_abandoned()` lets them finish (bounded) before anything is torn down, and says which
are still blocked.
"""

import threading
import time

_ABANDONED: list[tuple[str, threading.Thread]] = []
_LOCK = threading.Lock()


class OperationTimeout(AssertionError):
    """A storage operation did not complete within its bound. .worker is the abandoned thread,
    which resumes if the storage recovers (see settle_abandoned)."""

    worker = None


def bounded(fn, *, what, timeout, diagnose=None):
    __tracebackhide__ = True
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"bounded: {what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        cause = ""
        if diagnose is not None:
            try:
                cause = diagnose()
            except Exception as exc:  # noqa: BLE001 - the diagnosis is best effort
                cause = f"(could not ask the cluster: {exc})"
        said = f"the cluster says: {cause}" if cause else "the cluster reports no problem"
        error = OperationTimeout(f"{what} did not complete within {timeout:.0f}s; {said}")
        error.worker = worker
        with _LOCK:
            _ABANDONED.append((what, worker))
        raise error
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def settle_abandoned(timeout):
    """Wait, at most timeout seconds in all, for the operations abandoned at their bound to end.
    Returns what the ones still blocked were doing."""
    deadline = time.monotonic() + timeout
    with _LOCK:
        pending = list(_ABANDONED)
    for _, worker in pending:
        worker.join(max(0.0, deadline - time.monotonic()))
    with _LOCK:
        _ABANDONED[:] = [(what, w) for what, w in _ABANDONED if w.is_alive()]
        return [what for what, _ in _ABANDONED]


def health_summary(ceph_client, timeout=15):
    """One line of what Ceph says is wrong, e.g. 'POOL_FULL: 1 pool(s) full; OSD_DOWN: 1 osds down',
    and which PGs are not active: I/O to those waits, whichever health codes are raised just then."""
    detail = ceph_client.ceph_json("health", "detail", timeout=timeout)
    checks = detail.get("checks") or {}
    if not checks:
        return f"{detail.get('status', 'HEALTH_UNKNOWN')}, no health checks raised"
    parts = []
    by_state = ceph_client.ceph_json("status", timeout=timeout).get("pgmap", {}).get("pgs_by_state", [])
    inactive = [f"{s['count']} {s['state_name']}" for s in by_state if "active" not in s["state_name"].split("+")]
    if inactive:
        parts.append("PGs not active (their I/O waits): " + ", ".join(inactive))
    for code, check in sorted(checks.items()):
        line = f"{code}: {(check.get('summary') or {}).get('message', '')}"
        details = [d.get("message", "") for d in check.get("detail") or []][:3]
        if details:
            line += " (" + "; ".join(details) + ")"
        parts.append(line)
    return "; ".join(parts)
