"""Scale-out: new OSDs join, data moves onto them, and the cluster returns to HEALTH_OK with every
byte of the ledger intact. Disruptive: these run last, one at a time, each followed by the gate."""

import pytest

from ceph_conformance.recovery import acting_sets, gib, pools

pytestmark = [pytest.mark.scale, pytest.mark.disruptive]


def test_new_host_and_extra_osd_join_and_take_data(target, ceph, disruption, run_context, record_metric):
    """A new host and an extra OSD join, take data, and health returns with the ledger intact."""
    step = disruption.step
    before = disruption.topology()
    step.before(before)
    plan = target.scale_out_plan(list(before.hosts))
    disruption.note("adding " + ", ".join(f"a {gib(size)} GiB OSD on {host}" for host, size in plan))
    new = target.add_osds(plan, run_context.progress)

    after = disruption.topology()
    assert after.count == before.count + len(plan), f"OSD count {before.count} -> {after.count}, expected +{len(plan)}"
    for osd_id, (host, _size) in zip(new, plan, strict=True):
        osd = after.osds.get(osd_id)
        assert osd and osd["up"] and osd["in"], f"osd.{osd_id} is not up and in: {osd}"
        assert osd["host"] == host, f"osd.{osd_id} is under host {osd['host']}, expected {host}"
    planned = sum(size for _, size in plan)

    # A new OSD's size reaches `ceph osd df` with its first statistics report.
    def capacity_grown(status, dump):
        now = disruption.topology()
        return now.capacity_bytes - before.capacity_bytes >= planned * 0.99, \
            f"raw capacity {gib(now.capacity_bytes)} GiB (was {gib(before.capacity_bytes)} GiB)"

    disruption.wait_until(capacity_grown, f"raw capacity to grow by {gib(planned)} GiB")
    after = disruption.topology()
    step.after(after)
    added = sum(after.osds[i]["bytes"] for i in new)
    grown = after.capacity_bytes - before.capacity_bytes
    assert grown == added and abs(added - planned) <= planned * 0.01, (
        f"raw capacity grew by {gib(grown)} GiB; the new OSDs report {gib(added)} GiB, planned {gib(planned)} GiB")

    recovery_s = disruption.settle("data moving onto the new OSDs")
    record_metric("scale_out_recovery", recovery_s, "s")
    moved = sorted(pg for pg, acting in acting_sets(ceph).items() if set(acting) & set(new))
    step.notes.append(f"{len(moved)} PGs now on the new OSDs")
    assert moved, f"no PG has any of the new OSDs {new} in its acting set: data did not move onto them"
    disruption.assert_ledger_intact()


def test_pg_num_change_is_applied_and_settles(ceph, disruption, ledger, record_metric):
    """The ledger pool's pg_num doubles, settles active+clean, and the ledger stays intact."""
    step = disruption.step
    pool = ledger.rados_pool
    if pool is None:
        pytest.skip("the ledger has no RADOS pool on this target")
    step.before(disruption.topology())
    old = pools(ceph)[pool]["pg_num"]
    new = old * 2
    step.notes.append(f"pool {pool}: pg_num {old} -> {new}")
    ceph.ceph("osd", "pool", "set", pool, "pg_num", str(new))

    # Ceph splits PGs step by step (pg_num, then pgp_num follow pg_num_target).
    def applied(status, dump):
        p = next(p for p in dump["pools"] if p["pool_name"] == pool)
        return (p["pg_num"] == new and p["pg_placement_num"] == new,
                f"pg_num {p['pg_num']}, pgp_num {p['pg_placement_num']}, target {p.get('pg_num_target')}")

    split_s = disruption.wait_until(applied, f"pool {pool} at pg_num and pgp_num {new}")
    recovery_s = disruption.settle(f"the split of pool {pool}")
    record_metric("pg_split_settled", split_s + recovery_s, "s")
    prefix = f"{pools(ceph)[pool]['pool_id']}."  # once: each pools() is a `ceph` command
    pg_ids = [pg for pg in acting_sets(ceph) if pg.startswith(prefix)]
    assert len(pg_ids) == new, f"pool {pool} has {len(pg_ids)} PGs, expected {new}"
    step.after(disruption.topology())
    disruption.assert_ledger_intact()
