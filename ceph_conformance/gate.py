"""The HEALTH_OK gate: checks run only on a cluster that is healthy, and the session ends healthy."""

import time
from dataclasses import asdict, dataclass, field

from .health import all_problems, take_snapshot
from .secrets import scrub
from .stall import Stalled, StallWatch
from .waits import WaitTimeout, wait_for

DETAIL_LINES = 25  # health detail lists every PG; the first lines say what is wrong
# After a failed gate, `ceph health detail` gets this long: a gate ends within its bound plus this.
DETAIL_READ_S = 10.0


@dataclass
class GateResult:
    ok: bool
    waited_s: float
    timeout_s: float
    problems: list = field(default_factory=list)
    health_detail: str = ""
    muted: list = field(default_factory=list)
    muted_seen: list = field(default_factory=list)  # muted codes that were actually raised
    failed_on_purpose: list = field(default_factory=list)  # OSDs a disruptive check stopped for good
    stalled: str = ""  # why the gate gave up before its bound: nothing changed for the stall window

    def message(self):
        accepted = (f" (accepting {', '.join(f'osd.{i}' for i in self.failed_on_purpose)} down and out: "
                    "their host failed on purpose)") if self.failed_on_purpose else ""
        if self.ok:
            return f"HEALTH_OK gate passed after {self.waited_s:.0f}s{accepted}"
        head = f"HEALTH_OK gate not reached after {self.waited_s:.0f}s (bound {self.timeout_s:.0f}s){accepted}"
        if self.stalled:
            head += f": gave up early, the cluster is stuck ({self.stalled})"
        lines = [head + ":"]
        lines += [f"  - {p}" for p in self.problems]
        if self.health_detail:
            detail = self.health_detail.splitlines()
            lines += ["ceph health detail:"] + ["  " + line for line in detail[:DETAIL_LINES]]
            if len(detail) > DETAIL_LINES:
                lines.append(f"  ... ({len(detail) - DETAIL_LINES} more lines)")
        return "\n".join(lines)

    def to_dict(self):
        return asdict(self)


def run_gate(client, timeout, muted=(), interval=2.0, failed_on_purpose=(), stall_window=None):
    """Wait until the cluster meets every criterion, at most timeout seconds.

    failed_on_purpose: OSDs of a host a disruptive check made fail; they must be down and out
    (until the host is removed), and are listed in the result.
    stall_window: give up before the bound once the cluster's state has not changed, with no
    recovery I/O, for this long (stall.py); None or 0 waits out the bound."""
    muted = sorted(set(muted))
    failed_on_purpose = sorted(set(failed_on_purpose))
    started = time.monotonic()
    seen = {}
    watch = StallWatch(stall_window)

    def probe(deadline):
        snap = take_snapshot(client, timeout=30, deadline=deadline)
        if snap.cut_short and seen.get("problems"):
            # The gate's own bound cut the last probe short: what the cluster said before stands.
            return False, seen["problems"]
        seen["snap"] = snap
        problems = all_problems(snap, muted, failed_on_purpose)
        seen["problems"] = problems
        if problems:
            watch.observe(snap)
        return not problems, problems

    stalled = ""
    try:
        wait_for(probe, what="HEALTH_OK", timeout=timeout, interval=interval, deadline_aware=True)
    except (WaitTimeout, Stalled) as exc:
        if isinstance(exc, Stalled):
            stalled, problems = str(exc), seen["problems"]
        else:
            problems = exc.last_state if isinstance(exc.last_state, list) else [str(exc.last_state)]
        try:
            detail = client.ceph("health", "detail", timeout=DETAIL_READ_S).strip()
        except Exception as err:  # noqa: BLE001 - the cluster may be unreachable; say so
            detail = f"(could not read: {err})"
        return GateResult(
            ok=False,
            waited_s=round(time.monotonic() - started, 1),
            timeout_s=timeout,
            problems=[scrub(p) for p in problems],
            health_detail=scrub(detail),
            muted=muted,
            muted_seen=_muted_seen(seen.get("snap"), muted),
            failed_on_purpose=failed_on_purpose,
            stalled=scrub(stalled),
        )
    return GateResult(
        ok=True,
        waited_s=round(time.monotonic() - started, 1),
        timeout_s=timeout,
        muted=muted,
        muted_seen=_muted_seen(seen.get("snap"), muted),
        failed_on_purpose=failed_on_purpose,
    )


def _muted_seen(snap, muted):
    if snap is None:
        return []
    return sorted(code for code in snap.checks if code in muted)
