"""What "healthy" means, decided from Ceph's own JSON: quorum, mgr, OSDs, PGs, health checks.

Pure functions over `ceph status`, `ceph health detail` and `ceph osd dump` output, so the
verdicts are unit-testable and identical on every target.
"""

from dataclasses import dataclass, field

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
    raw: dict = field(default_factory=dict, repr=False)

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
            raw={"status": status, "health": health, "osd_dump": osd_dump},
        )

    @property
    def osd_count(self):
        return len(self.osds)


def quorum_problems(s: HealthSnapshot):
    if s.num_mons == 0:
        return ["no monitors in the monmap"]
    if len(s.quorum) < s.num_mons:
        return [f"only {len(s.quorum)} of {s.num_mons} mons in quorum (quorum: {s.quorum or 'none'})"]
    return []


def mgr_problems(s: HealthSnapshot):
    return [] if s.mgr_available else ["no active mgr"]


def osd_problems(s: HealthSnapshot, failed_on_purpose=()):
    """OSDs not up and in. failed_on_purpose: OSDs of a host a disruptive check made fail, which
    must be down and out until it is removed."""
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
    unclean = {state: n for state, n in s.pgs_by_state.items() if not is_clean(state)}
    if not unclean:
        return []
    count = sum(unclean.values())
    states = ", ".join(f"{n} {state}" for state, n in sorted(unclean.items(), key=lambda kv: -kv[1]))
    return [f"{count} of {s.num_pgs} PGs not active+clean: {states}"]


def health_problems(s: HealthSnapshot, muted=()):
    """Health checks that are neither absent nor muted by the reviewed list."""
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
    return (quorum_problems(s) + mgr_problems(s) + osd_problems(s, failed_on_purpose) + pg_problems(s)
            + health_problems(s, muted))


def take_snapshot(client, timeout=30.0, deadline=None):
    """Read the cluster's state through a CephClient (any target).

    timeout bounds each of the three CLI calls; a Deadline (waits.Deadline) bounds them together,
    so a gate's probe ends when the gate's time is up."""
    def call(*args):
        t = deadline.cap(timeout) if deadline else timeout
        if t <= 0:
            raise TimeoutError(f"no time left to run `ceph {' '.join(args)}`")
        return client.ceph_json(*args, timeout=t)

    return HealthSnapshot.from_ceph(call("status"), call("health", "detail"), call("osd", "dump"))
