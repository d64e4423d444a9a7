"""The cluster's shape and its data movement: what the disruptive checks measure and wait for.

Pure functions over Ceph's JSON, plus bounded waits that, on timeout, say what recovery was
still doing: PG states with examples, degraded and misplaced objects, recovery rate, the OSD
flags that hold recovery back.
"""

import json
import time
from dataclasses import dataclass, field

from .health import is_clean
from .payload import GiB
from .waits import WaitTimeout, wait_for

# OSD map flags that stop or hold back data movement; others (sortbitwise, ...) are routine.
HOLDING_FLAGS = ("noout", "noin", "noup", "nodown", "norecover", "nobackfill", "norebalance", "pause",
                 "pauserd", "pausewr")
EXAMPLES = 8


@dataclass
class Topology:
    """OSDs by host, with their state and size, as Ceph reports them."""

    osds: dict  # id -> {"host", "up", "in", "bytes"}
    capacity_bytes: int  # raw capacity Ceph reports (`ceph osd df` total)
    hosts: dict = field(default_factory=dict)  # host -> [osd ids]

    @property
    def count(self):
        return len(self.osds)

    def osds_on(self, host):
        return sorted(self.hosts.get(host, []))

    def bytes_on(self, host):
        return sum(self.osds[i]["bytes"] for i in self.osds_on(host))


def gib(n):
    return round(n / GiB, 2)


def topology_from(tree, df, dump):
    kb = {n["id"]: n.get("kb", 0) for n in df.get("nodes", [])}
    state = {o["osd"]: o for o in dump.get("osds", [])}
    hosts, osds = {}, {}
    for node in tree.get("nodes", []):
        if node.get("type") == "host":
            hosts[node["name"]] = sorted(c for c in node.get("children", []) if c >= 0)
    def osd(i, host):
        o = state.get(i, {})
        return {"host": host, "up": bool(o.get("up")), "in": bool(o.get("in")), "bytes": kb.get(i, 0) * 1024}

    for host, ids in hosts.items():
        for i in ids:
            osds[i] = osd(i, host)
    for i in state:  # OSDs outside any host bucket still count
        osds.setdefault(i, osd(i, None))
    total = df.get("summary", {}).get("total_kb", 0) * 1024
    return Topology(osds=osds, capacity_bytes=total, hosts=hosts)


def topology(client):
    return topology_from(client.ceph_json("osd", "tree"), client.ceph_json("osd", "df"),
                         client.ceph_json("osd", "dump"))


# -- recovery state ---------------------------------------------------------------------------------

def holding_flags(osd_dump):
    flags = osd_dump.get("flags_set") or (osd_dump.get("flags") or "").split(",")
    return [f for f in flags if f in HOLDING_FLAGS]


def unclean_pgs(pg_stats):
    """[(pgid, state, acting)] of PGs that are not active+clean."""
    return [(p["pgid"], p["state"], p.get("acting", [])) for p in pg_stats if not is_clean(p["state"])]


def describe_recovery(status, osd_dump, pg_stats=()):
    """One paragraph: what recovery is doing (or not doing) right now."""
    pgmap = status.get("pgmap", {})
    osdmap = status.get("osdmap", {})
    total = pgmap.get("num_pgs", 0)
    unclean = {s["state_name"]: s["count"] for s in pgmap.get("pgs_by_state", []) if not is_clean(s["state_name"])}
    parts = []
    if unclean:
        states = ", ".join(f"{n} {s}" for s, n in sorted(unclean.items(), key=lambda kv: -kv[1]))
        parts.append(f"{sum(unclean.values())} of {total} PGs not active+clean ({states})")
    else:
        parts.append(f"all {total} PGs active+clean")
    stuck = unclean_pgs(pg_stats)
    if stuck:
        shown = "; ".join(f"{pgid} {state} on {acting}" for pgid, state, acting in stuck[:EXAMPLES])
        more = f" and {len(stuck) - EXAMPLES} more" if len(stuck) > EXAMPLES else ""
        parts.append(f"e.g. {shown}{more}")
    for kind in ("degraded", "misplaced", "unfound"):
        n = pgmap.get(f"{kind}_objects", 0)
        if n:
            of = pgmap.get(f"{kind}_total") or pgmap.get("degraded_total")
            parts.append(f"{n}{f'/{of}' if of else ''} objects {kind}")
    rate = pgmap.get("recovering_bytes_per_sec", 0)
    parts.append(f"recovering at {rate / 2**20:.1f} MiB/s" if rate else "no recovery I/O")
    down = osdmap.get("num_osds", 0) - osdmap.get("num_up_osds", 0)
    out = osdmap.get("num_osds", 0) - osdmap.get("num_in_osds", 0)
    parts.append(f"{osdmap.get('num_osds', 0)} OSDs, {down} down, {out} out")
    flags = holding_flags(osd_dump)
    if flags:
        parts.append(f"OSD flags set: {','.join(flags)}")
    return "; ".join(parts)


def recovery_state(client, timeout=30):
    status = client.ceph_json("status", timeout=timeout)
    dump = client.ceph_json("osd", "dump", timeout=timeout)
    try:
        pg_stats = client.ceph_json("pg", "dump", "pgs_brief", timeout=timeout).get("pg_stats", [])
    except Exception:  # noqa: BLE001 - the examples are a bonus; the counts stand without them
        pg_stats = []
    return status, dump, pg_stats


class RecoveryTimeout(AssertionError):
    """Recovery did not finish within its bound; the message says what it was still doing."""


def wait_until(client, condition, *, what, timeout, interval=2.0):
    """Wait for condition(status, osd_dump) -> (done, note); return seconds taken.

    On timeout raise RecoveryTimeout naming what was awaited and the recovery state last seen."""
    __tracebackhide__ = True
    started = time.monotonic()

    def probe(deadline):
        status = client.ceph_json("status", timeout=deadline.cap(30))
        dump = client.ceph_json("osd", "dump", timeout=deadline.cap(30))
        return condition(status, dump)

    try:
        wait_for(probe, what=what, timeout=timeout, interval=interval, deadline_aware=True)
    except WaitTimeout as exc:
        waited = time.monotonic() - started
        try:
            status, dump, pg_stats = recovery_state(client)
            state = describe_recovery(status, dump, pg_stats)
        except Exception as err:  # noqa: BLE001 - the cluster may not answer; say so
            state = f"(could not read the recovery state: {err}); last seen: {exc.last_state}"
        raise RecoveryTimeout(f"{what}: not reached within {waited:.0f}s (bound {timeout:.0f}s); "
                              f"recovery state: {state}") from None
    return round(time.monotonic() - started, 1)


def all_active_clean(status, dump):
    """Every PG active+clean, counted by a PG map that has caught up with the OSD map.

    `ceph status` reports the mgr's PG map, which lags the mons' OSD map: right after a pg_num
    change it still counts the old PGs, all clean. So the PGs it counts must be the PGs the OSD
    map's pools have, and no pool may be between two pg_num or pgp_num values."""
    pgmap = status.get("pgmap", {})
    unclean = [s for s in pgmap.get("pgs_by_state", []) if not is_clean(s["state_name"])]
    counted = pgmap.get("num_pgs", 0)
    note = describe_recovery(status, dump)
    lag = []
    pools = dump.get("pools", [])
    expected = sum(p.get("pg_num", 0) for p in pools)
    if counted != expected:
        lag.append(f"the mgr's PG map counts {counted} PGs, the OSD map's pools have {expected}")
    lag += [f"pool {p['pool_name']} at pg_num {p['pg_num']}, pgp_num {p.get('pg_placement_num')}, target "
            f"{p.get('pg_num_target')}" for p in pools if _resizing(p)]
    return not unclean and counted > 0 and not lag, "; ".join([note, *lag])


def _resizing(pool):
    n = pool["pg_num"]
    return pool.get("pg_num_target", n) != n or pool.get("pg_placement_num", n) != n


# -- asking before stopping -------------------------------------------------------------------------

@dataclass
class OkToStop:
    ok: bool
    osds: list
    become_inactive: list
    become_degraded: list
    said: str  # Ceph's own words

    def summary(self):
        verdict = "yes" if self.ok else "no"
        text = f"ceph osd ok-to-stop {' '.join(map(str, self.osds))}: {verdict}"
        if self.become_inactive:
            shown = ", ".join(self.become_inactive[:EXAMPLES])
            more = " ..." if len(self.become_inactive) > EXAMPLES else ""
            text += f", {len(self.become_inactive)} PGs would become inactive ({shown}{more})"
        if self.become_degraded:
            text += f", {len(self.become_degraded)} PGs would become degraded"
        if self.said and not self.ok:
            text += f" [{self.said}]"
        return text


def parse_ok_to_stop(osds, returncode, stdout, stderr):
    try:
        data = json.loads(stdout) if stdout.strip() else {}
    except json.JSONDecodeError:
        data = {}
    said = " ".join(stderr.split())
    return OkToStop(ok=returncode == 0 and bool(data.get("ok_to_stop", returncode == 0)), osds=list(osds),
                    become_inactive=list(data.get("bad_become_inactive", [])),
                    become_degraded=list(data.get("ok_become_degraded", [])), said=said)


def ok_to_stop(client, osds):
    proc = client.run_ceph("osd", "ok-to-stop", *map(str, osds), "--format", "json")
    return parse_ok_to_stop(osds, proc.returncode, proc.stdout, proc.stderr)


def pools(client):
    return {p["pool_name"]: p for p in client.ceph_json("osd", "pool", "ls", "detail")}


def acting_sets(client):
    stats = client.ceph_json("pg", "dump", "pgs_brief").get("pg_stats", [])
    return {p["pgid"]: p.get("acting", []) for p in stats}
