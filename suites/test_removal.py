"""Node removal: a host dies, Ceph notices, re-replicates its data onto the other hosts, and the host
is then removed for good. Not a byte of the ledger may be lost. Disruptive: these run last, one at
a time, each followed by the gate."""

import pytest

from ceph_conformance.recovery import gib, ok_to_stop, pools

pytestmark = [pytest.mark.removal, pytest.mark.disruptive]


def _host_to_fail(topo, ceph):
    """The host holding the most data (ties by name): losing it moves the most."""
    used = {o["id"]: o.get("kb_used", 0) for o in ceph.ceph_json("osd", "df")["nodes"]}
    candidates = [h for h, ids in topo.hosts.items() if ids]
    widest = max(pools(ceph).values(), key=lambda p: p["size"])
    if len(candidates) - 1 < widest["size"]:
        # Checked before any damage: the cluster cannot return to active+clean without the host.
        pytest.fail(f"pool {widest['pool_name']} keeps {widest['size']} copies on separate hosts, but only "
                    f"{len(candidates) - 1} of the hosts {sorted(candidates)} would remain", pytrace=False)
    return max(sorted(candidates), key=lambda h: sum(used.get(i, 0) for i in topo.osds_on(h)))


def _osd_states(ids):
    def states(dump):
        by_id = {o["osd"]: o for o in dump["osds"]}
        return {i: ("up" if by_id[i]["up"] else "down") + ("+in" if by_id[i]["in"] else "+out") for i in ids}
    return states


def test_failed_host_is_marked_down_and_out_and_data_recovers(target, ceph, disruption, run_context,
                                                                record_metric):
    """A host's OSDs killed: Ceph marks them down and out and recovers the data elsewhere."""
    step = disruption.step
    before = disruption.topology()
    step.before(before)
    host = _host_to_fail(before, ceph)
    ids = before.osds_on(host)
    answer = ok_to_stop(ceph, ids)
    step.notes.append(f"failing host {host} ({', '.join(f'osd.{i}' for i in ids)})")
    disruption.note(answer.summary())
    run_context.coordinator.note("failed-host", {"host": host, "osds": ids, "bytes": before.bytes_on(host),
                                                 "osds_before": before.count,
                                                 "capacity_before": before.capacity_bytes})
    failed = target.fail_node(host)
    assert sorted(failed) == ids, f"the target stopped {failed}, expected the OSDs of {host}: {ids}"
    states = _osd_states(ids)

    def down_and_degraded(status, dump):
        degraded = [s["state_name"] for s in status["pgmap"].get("pgs_by_state", [])
                    if "degraded" in s["state_name"] or "undersized" in s["state_name"]]
        down = all(s.startswith("down") for s in states(dump).values())
        return down and bool(degraded), f"{states(dump)}; degraded PG states: {degraded or 'none'}"

    detect_s = disruption.wait_until(down_and_degraded, f"the OSDs of {host} reported down and PGs degraded",
                                     interval=0.5)
    out_s = disruption.wait_until(lambda status, dump: (all(s.endswith("out") for s in states(dump).values()),
                                                        str(states(dump))),
                                  f"Ceph marking the OSDs of {host} out")
    step.notes.append(f"down after {detect_s}s, out {out_s}s later")
    recovery_s = disruption.settle(f"recovery from the loss of {host}")
    record_metric("host_loss_recovery", recovery_s, "s")
    step.after(disruption.topology())
    disruption.assert_ledger_intact()
    if not answer.ok:
        disruption.fail(f"the cluster recovered, but Ceph had said stopping {host} was not safe")


def test_removed_host_is_purged_and_capacity_drops_by_its_share(target, ceph, disruption, run_context):
    """The failed host purged: OSD count and raw capacity drop by exactly its share."""
    step = disruption.step
    failed = run_context.coordinator.read_note("failed-host")
    if failed is None:
        pytest.fail("no failed host to remove: test_failed_host_is_marked_down_and_out_and_data_recovers "
                    "did not get to stop one", pytrace=False)
    host, ids = failed["host"], failed["osds"]
    step.before(disruption.topology())
    step.notes.append(f"removing host {host} ({', '.join(f'osd.{i}' for i in ids)}, {gib(failed['bytes'])} GiB)")
    target.remove_node(host, run_context.progress)
    run_context.coordinator.note("removed-host", {"host": host, "osds": ids})

    after = disruption.topology()
    assert host not in after.hosts, f"host bucket {host} is still in the CRUSH map: {sorted(after.hosts)}"
    left = sorted(set(ids) & set(after.osds))
    assert not left, f"purged OSDs still in the OSD map: {left}"
    expected_count = failed["osds_before"] - len(ids)
    assert after.count == expected_count, f"{after.count} OSDs, expected {expected_count} ({len(ids)} purged)"
    expected_capacity = failed["capacity_before"] - failed["bytes"]

    # `ceph osd df` comes from the mgr, which learns of the purge a moment later (as scale-out
    # waits for new OSDs to show there): wait for the drop, bounded, rather than read it once.
    def capacity_dropped(status, dump):
        now = disruption.topology().capacity_bytes
        return now == expected_capacity, (f"raw capacity dropped by {gib(failed['capacity_before'] - now)} GiB; "
                                          f"{host} held {gib(failed['bytes'])} GiB")

    disruption.wait_until(capacity_dropped, f"raw capacity to drop by the {gib(failed['bytes'])} GiB of {host}")
    disruption.settle(f"removing {host} from the CRUSH map")
    step.after(disruption.topology())
    disruption.assert_ledger_intact()
