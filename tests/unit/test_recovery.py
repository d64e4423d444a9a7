"""Cluster shape and recovery state from Ceph's JSON (shapes trimmed from real Ceph 16 output)."""

from ceph_conformance.recovery import (
    RecoveryTimeout,
    describe_recovery,
    holding_flags,
    parse_ok_to_stop,
    topology_from,
    wait_until,
)

GiB_KB = 6 * 1024 * 1024

TREE = {"nodes": [
    {"id": -1, "name": "default", "type": "root", "children": [-5, -3]},
    {"id": -3, "name": "node1", "type": "host", "children": [3, 0]},
    {"id": 0, "name": "osd.0", "type": "osd"}, {"id": 3, "name": "osd.3", "type": "osd"},
    {"id": -5, "name": "node2", "type": "host", "children": [1]},
    {"id": 1, "name": "osd.1", "type": "osd"},
], "stray": []}
DF = {"nodes": [{"id": 0, "kb": GiB_KB}, {"id": 1, "kb": GiB_KB}, {"id": 3, "kb": GiB_KB}],
      "summary": {"total_kb": 3 * GiB_KB}}
DUMP = {"flags": "noout,sortbitwise,norecover", "flags_set": ["noout", "norecover", "sortbitwise"],
        "osds": [{"osd": 0, "up": 0, "in": 1}, {"osd": 1, "up": 1, "in": 1}, {"osd": 3, "up": 1, "in": 0}],
        "pools": []}


def test_topology_groups_osds_by_host_with_state_and_size():
    topo = topology_from(TREE, DF, DUMP)
    assert topo.count == 3 and topo.osds_on("node1") == [0, 3] and topo.osds_on("node2") == [1]
    assert topo.bytes_on("node1") == 2 * GiB_KB * 1024 and topo.capacity_bytes == 3 * GiB_KB * 1024
    assert topo.osds[0] == {"host": "node1", "up": False, "in": True, "bytes": GiB_KB * 1024}
    assert (topo.osds_on("node1"), topo.osds_on("node2")) == ([0, 3], [1])


def test_recovery_state_names_stuck_pgs_degraded_objects_and_holding_flags():
    status = {"pgmap": {"num_pgs": 40, "pgs_by_state": [
        {"state_name": "active+clean", "count": 30},
        {"state_name": "active+undersized+degraded", "count": 7},
        {"state_name": "active+clean+scrubbing", "count": 1},
        {"state_name": "stale+active+clean", "count": 2}],
        "degraded_objects": 120, "degraded_total": 3000, "misplaced_objects": 0},
        "osdmap": {"num_osds": 3, "num_up_osds": 2, "num_in_osds": 2}}
    pg_stats = [{"pgid": "12.3", "state": "stale+active+clean", "acting": [2]},
                {"pgid": "1.0", "state": "active+clean", "acting": [0, 1]}]
    text = describe_recovery(status, DUMP, pg_stats)
    assert "9 of 40 PGs not active+clean (7 active+undersized+degraded, 2 stale+active+clean)" in text
    assert "e.g. 12.3 stale+active+clean on [2]" in text and "1.0" not in text
    assert "120/3000 objects degraded" in text and "no recovery I/O" in text
    assert "3 OSDs, 1 down, 1 out" in text and "OSD flags set: noout,norecover" in text
    assert holding_flags({"flags": "sortbitwise,nobackfill"}) == ["nobackfill"]


def test_ok_to_stop_says_which_pgs_would_become_inactive():
    no = parse_ok_to_stop([2], 16, '{"ok_to_stop":false,"osds":[2],"bad_become_inactive":["12.2","12.3"],'
                                   '"ok_become_degraded":["1.0"]}',
                          "Error EBUSY: unsafe to stop osd(s) at this time (2 PGs are or would become offline)")
    assert not no.ok and no.become_inactive == ["12.2", "12.3"]
    assert no.summary().startswith("ceph osd ok-to-stop 2: no, 2 PGs would become inactive (12.2, 12.3)")
    assert "EBUSY" in no.summary()
    yes = parse_ok_to_stop([0, 3], 0, '{"ok_to_stop":true,"osds":[0,3],"ok_become_degraded":["1.0","2.1"]}', "")
    assert yes.ok and yes.summary() == "ceph osd ok-to-stop 0 3: yes, 2 PGs would become degraded"


class StuckCluster:
    def ceph_json(self, *args, timeout=None):
        if args == ("status",):
            return {"pgmap": {"num_pgs": 8, "pgs_by_state": [{"state_name": "active+remapped+backfill_wait",
                                                             "count": 8}], "misplaced_objects": 40,
                              "misplaced_total": 100},
                    "osdmap": {"num_osds": 5, "num_up_osds": 5, "num_in_osds": 5}}
        if args == ("osd", "dump"):
            return {"flags_set": ["nobackfill"], "osds": []}
        if args == ("pg", "dump", "pgs_brief"):
            return {"pg_stats": [{"pgid": "2.1", "state": "active+remapped+backfill_wait", "acting": [0, 1]}]}
        raise AssertionError(args)


def test_a_recovery_that_stands_still_fails_at_its_bound_with_what_it_was_doing():
    def never(status, dump):
        return False, "still moving"

    try:
        wait_until(StuckCluster(), never, what="every PG active+clean", timeout=0.3, interval=0.05)
    except RecoveryTimeout as exc:
        text = str(exc)
    else:
        raise AssertionError("the wait did not time out")
    assert text.startswith("every PG active+clean: not reached within 0s (bound 0s); recovery state: ")
    assert "8 of 8 PGs not active+clean (8 active+remapped+backfill_wait)" in text
    assert "40/100 objects misplaced" in text and "OSD flags set: nobackfill" in text


def _clean_status(num_pgs):
    return {"pgmap": {"num_pgs": num_pgs, "pgs_by_state": [{"state_name": "active+clean", "count": num_pgs}]},
            "osdmap": {"num_osds": 4, "num_up_osds": 4, "num_in_osds": 4}}


def _pool(name, pg_num, pgp_num=None, target=None):
    return {"pool_name": name, "pg_num": pg_num, "pg_placement_num": pgp_num or pg_num,
            "pg_num_target": target or pg_num}


def test_settled_needs_a_pg_map_that_caught_up_with_the_osd_map():
    from ceph_conformance.recovery import all_active_clean

    # Right after a split of pool "ledger" from 8 to 16 PGs, the mgr still counts the old 16 PGs,
    # all clean: not settled.
    dump = {"osds": [], "pools": [_pool("rbd", 8), _pool("ledger", 16)]}
    done, note = all_active_clean(_clean_status(16), dump)
    assert not done and "the mgr's PG map counts 16 PGs, the OSD map's pools have 24" in note, note
    done, note = all_active_clean(_clean_status(24), {"osds": [], "pools": [_pool("rbd", 8), _pool("ledger", 16)]})
    assert done, note
    # A pool still stepping towards its target is not settled either.
    done, note = all_active_clean(_clean_status(24), {"osds": [], "pools": [_pool("rbd", 8),
                                                                           _pool("ledger", 16, 12, 16)]})
    assert not done and "pool ledger at pg_num 16, pgp_num 12, target 16" in note, note
