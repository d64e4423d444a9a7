"""What "healthy" means, decided from Ceph's own JSON: quorum, mgr, OSDs, PGs, health checks.

Pure functions over `ceph status`, `ceph health detail` and `ceph osd dump` output, so the
verdicts are unit-testable and identical on every target.
"""

from dataclasses import dataclass, field

from .errors import CommandError
from .secrets import scrub

CLEAN = "active+clean"


@dataclass
class HealthSnapshot:
    status: str
    checks: dict  # code -> {"severity", "message", "detail": [str]}
    cluster_mutes: list
    quorum: list
    num_mons: int
    mgr_available: bool
    osds: list  # [{"id", "up", "in"}]
    pgs_by_state: dict  # state -> count
    num_pgs: int
    mons: list = field(default_factory=list)  # names in the monmap, read when some are out of quorum
    unreachable: str = ""  # why the monitors did not answer (then nothing else is known)
    cut_short: bool = False  # unanswered only because the caller's deadline left a call too little time
    # Recovery, from the pgmap: objects still to repair or move, and whether any are moving now.
    degraded_objects: int = 0
    misplaced_objects: int = 0
    unfound_objects: int = 0
    recovering: bool = False

    @classmethod
    def unanswered(cls, reason, cut_short=False):
        return cls(status="UNKNOWN", checks={}, cluster_mutes=[], quorum=[], num_mons=0, mgr_available=False,
                   osds=[], pgs_by_state={}, num_pgs=0, unreachable=reason, cut_short=cut_short)

    @classmethod
    def from_ceph(cls, status, health_detail, osd_dump):
        health = health_detail or status.get("health", {})
        checks = {}
        for code, check in (health.get("checks") or {}).items():
            checks[code] = {
                "severity": check.get("severity", "?"),
                "message": (check.get("summary") or {}).get("message", ""),
                "detail": [d.get("message", "") for d in check.get("detail") or []],
            }
        mutes = [m.get("code", m) if isinstance(m, dict) else m for m in health.get("mutes") or []]
        pgmap = status.get("pgmap", {})
        return cls(
            status=health.get("status", "UNKNOWN"),
            checks=checks,
            cluster_mutes=mutes,
            quorum=list(status.get("quorum_names") or []),
            num_mons=int((status.get("monmap") or {}).get("num_mons", 0)),
            mgr_available=bool((status.get("mgrmap") or {}).get("available")),
            osds=[{"id": o["osd"], "up": bool(o["up"]), "in": bool(o["in"])} for o in osd_dump.get("osds", [])],
            pgs_by_state={s["state_name"]: s["count"] for s in pgmap.get("pgs_by_state", [])},
            num_pgs=int(pgmap.get("num_pgs", 0)),
            degraded_objects=int(pgmap.get("degraded_objects", 0)),
            misplaced_objects=int(pgmap.get("misplaced_objects", 0)),
            unfound_objects=int(pgmap.get("unfound_objects", 0)),
            recovering=any(pgmap.get(k, 0) > 0 for k in ("recovering_objects_per_sec", "recovering_bytes_per_sec",
                                                          "recovering_keys_per_sec")),
        )

    def fingerprint(self):
        """What the cluster's state is, without the free text of health messages (they carry
        timers, "blocked for 35 sec", that change on a cluster that is stuck)."""
        return (self.unreachable, self.status, tuple(sorted((c, v["severity"]) for c, v in self.checks.items())),
                tuple(sorted(self.quorum)), self.mgr_available,
                tuple((o["id"], o["up"], o["in"]) for o in self.osds), tuple(sorted(self.pgs_by_state.items())),
                self.degraded_objects, self.misplaced_objects, self.unfound_objects)

    @property
    def osd_count(self):
        return len(self.osds)


def quorum_problems(s: HealthSnapshot):
    if s.unreachable:
        return [s.unreachable]
    if s.num_mons == 0:
        return ["no monitors in the monmap"]
    missing = [m for m in s.mons if m not in s.quorum]
    if missing:
        return [f"mon.{m} not in quorum (quorum: {', '.join(sorted(s.quorum)) or 'none'}; {len(s.quorum)} of "
                f"{s.num_mons} mons)" for m in missing]
    if len(s.quorum) < s.num_mons:
        return [f"only {len(s.quorum)} of {s.num_mons} mons in quorum (quorum: {s.quorum or 'none'})"]
    return []


def mgr_problems(s: HealthSnapshot):
    if s.unreachable:
        return [s.unreachable]
    return [] if s.mgr_available else ["no active mgr"]


def osd_problems(s: HealthSnapshot, failed_on_purpose=()):
    """OSDs not up and in. failed_on_purpose: OSDs of a host a disruptive check made fail, which
    must be down and out until it is removed."""
    if s.unreachable:
        return [s.unreachable]
    if not s.osds:
        return ["the cluster has no OSDs"]
    failed = set(failed_on_purpose)
    problems = [f"osd.{o['id']} is down" for o in s.osds if not o["up"] and o["id"] not in failed]
    problems += [f"osd.{o['id']} is out" for o in s.osds if not o["in"] and o["id"] not in failed]
    problems += [f"osd.{o['id']} should be down and out (its host failed on purpose) but is "
                 f"{'up' if o['up'] else 'down'} and {'in' if o['in'] else 'out'}"
                 for o in s.osds if o["id"] in failed and (o["up"] or o["in"])]
    return problems


# Background work on a healthy PG: Ceph counts these as active+clean, and so do we.
BENIGN = {"scrubbing", "deep", "snaptrim", "snaptrim_wait"}


def is_clean(state):
    flags = set(state.split("+"))
    return {"active", "clean"} <= flags and flags - {"active", "clean"} <= BENIGN


def pg_problems(s: HealthSnapshot):
    if s.unreachable:
        return [s.unreachable]
    unclean = {state: n for state, n in s.pgs_by_state.items() if not is_clean(state)}
    if not unclean:
        return []
    count = sum(unclean.values())
    states = ", ".join(f"{n} {state}" for state, n in sorted(unclean.items(), key=lambda kv: -kv[1]))
    return [f"{count} of {s.num_pgs} PGs not active+clean: {states}"]


def health_problems(s: HealthSnapshot, muted=()):
    """Health checks that are neither absent nor muted by the reviewed list."""
    if s.unreachable:
        return [s.unreachable]
    muted = set(muted)
    problems = []
    for code, check in sorted(s.checks.items()):
        if code in muted:
            continue
        line = f"{code} ({check['severity']}): {check['message']}"
        if check["detail"]:
            line += " [" + "; ".join(check["detail"][:5]) + (" ..." if len(check["detail"]) > 5 else "") + "]"
        problems.append(line)
    for code in s.cluster_mutes:
        if code not in muted:
            problems.append(
                f"{code} is muted on the cluster but not reviewed: pass --mute-health {code} to accept it"
            )
    if s.status != "HEALTH_OK" and not problems and not (set(s.checks) <= muted):
        problems.append(f"cluster reports {s.status}")
    return problems


def all_problems(s: HealthSnapshot, muted=(), failed_on_purpose=()):
    if s.unreachable:
        return [s.unreachable]
    return (quorum_problems(s) + mgr_problems(s) + osd_problems(s, failed_on_purpose) + pg_problems(s)
            + health_problems(s, muted))


class _NoAnswer(Exception):
    def __init__(self, reason, cut_short):
        super().__init__(reason)
        self.cut_short = cut_short


def take_snapshot(client, timeout=30.0, deadline=None):
    """Read the cluster's state through a CephClient (any target).

    timeout bounds each CLI call; a Deadline (waits.Deadline) bounds them together, so a gate's
    probe ends when the gate's time is up. Monitors that do not answer (no quorum: the CLI waits
    for one) give a snapshot that says so, which every criterion reports, instead of an error."""
    def call(*args):
        t = deadline.cap(timeout) if deadline else timeout
        if t <= 0:
            raise TimeoutError(f"no time left to run `ceph {' '.join(args)}`")
        try:
            return client.ceph_json(*args, timeout=t)
        except CommandError as exc:
            if exc.timeout is not None:
                said = f"`ceph {' '.join(args)}` did not answer within {exc.timeout:.0f}s"
            else:
                said = f"`ceph {' '.join(args)}` failed: {(exc.output.strip().splitlines() or ['?'])[-1]}"
            raise _NoAnswer(f"no quorum / cannot reach the monitors: {scrub(said)}",
                            # ... and its time is up: the bound, not the mons, ended the call
                            cut_short=exc.timeout is not None and t < timeout and deadline.remaining() < 0.5) from None

    try:
        snap = HealthSnapshot.from_ceph(call("status"), call("health", "detail"), call("osd", "dump"))
        if len(snap.quorum) < snap.num_mons:  # name the mons that are out
            snap.mons = [m["name"] for m in call("mon", "dump").get("mons", [])]
    except _NoAnswer as exc:
        return HealthSnapshot.unanswered(str(exc), exc.cut_short)
    return snap
