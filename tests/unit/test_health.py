from ceph_conformance import health as h

from .samples import OSD_DOWN, health_detail, osd_dump, status


def snap(**kw):
    down = kw.pop("down", ())
    out = kw.pop("out", ())
    checks = kw.get("checks")
    st = status(**kw)
    return h.HealthSnapshot.from_ceph(st, health_detail(st["health"]["status"], checks, kw.get("mutes", ())),
                                      osd_dump(down, out))


def test_healthy_cluster_has_no_problems():
    assert h.all_problems(snap()) == []


def test_down_osd_is_named_and_its_health_check_reported():
    s = snap(health="HEALTH_WARN", checks=OSD_DOWN, down=(1,), pgs={"active+clean": 40, "active+undersized": 17})
    problems = h.all_problems(s)
    assert "osd.1 is down" in problems
    assert any(p.startswith("OSD_DOWN (HEALTH_WARN): 1 osds down [osd.1 (root=default,host=node2) is down]")
               for p in problems)
    assert "17 of 57 PGs not active+clean: 17 active+undersized" in problems


def test_out_osd_and_missing_mgr_and_quorum():
    s = snap(out=(2,), mgr=False, quorum=(), num_mons=3)
    assert h.osd_problems(s) == ["osd.2 is out"]
    assert h.mgr_problems(s) == ["no active mgr"]
    assert h.quorum_problems(s) == ["only 0 of 3 mons in quorum (quorum: none)"]


def test_unclean_pg_states_sorted_by_count():
    s = snap(pgs={"active+clean": 50, "peering": 2, "active+recovering+degraded": 5})
    assert h.pg_problems(s) == ["7 of 57 PGs not active+clean: 5 active+recovering+degraded, 2 peering"]


def test_reviewed_mute_is_accepted_and_others_are_not():
    s = snap(health="HEALTH_WARN", checks=OSD_DOWN)
    assert [p.split(" ")[0] for p in h.health_problems(s, muted=["OSD_DOWN"])] == ["OSD_HOST_DOWN"]
    assert h.health_problems(s, muted=["OSD_DOWN", "OSD_HOST_DOWN"]) == []


def test_cluster_side_mute_must_be_reviewed():
    s = snap(mutes=("AUTH_INSECURE_GLOBAL_ID_RECLAIM",))
    assert h.health_problems(s) == [
        "AUTH_INSECURE_GLOBAL_ID_RECLAIM is muted on the cluster but not reviewed: "
        "pass --mute-health AUTH_INSECURE_GLOBAL_ID_RECLAIM to accept it"]
    assert h.health_problems(s, muted=["AUTH_INSECURE_GLOBAL_ID_RECLAIM"]) == []


def test_no_osds_is_a_problem():
    s = h.HealthSnapshot.from_ceph(status(), health_detail(), {"osds": []})
    assert h.osd_problems(s) == ["the cluster has no OSDs"]


def test_scrubbing_and_snaptrim_on_clean_pgs_are_clean_but_remapped_is_not():
    s = snap(pgs={"active+clean": 40, "active+clean+snaptrim": 5, "active+clean+scrubbing+deep": 2,
                  "active+clean+snaptrim_wait": 3, "active+clean+remapped": 7})
    assert h.pg_problems(s) == ["7 of 57 PGs not active+clean: 7 active+clean+remapped"]


def test_a_mon_out_of_quorum_is_named():
    from ceph_conformance.health import take_snapshot

    class OneMonDown:
        def ceph_json(self, *args, timeout=None):
            if args == ("status",):
                return status(quorum=("b", "a"), num_mons=3)  # rank order
            if args == ("health", "detail"):
                return health_detail()
            if args == ("mon", "dump"):
                return {"mons": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
            return osd_dump()

    assert h.quorum_problems(take_snapshot(OneMonDown())) == ["mon.c not in quorum (quorum: a, b; 2 of 3 mons)"]


def test_monitors_that_do_not_answer_fail_every_criterion_saying_so():
    from ceph_conformance.errors import CommandError
    from ceph_conformance.health import take_snapshot

    class NoQuorum:
        def ceph_json(self, *args, timeout=None):
            raise CommandError(["ceph", *args], None, "", timeout=timeout)

    s = take_snapshot(NoQuorum(), timeout=7)
    said = "no quorum / cannot reach the monitors: `ceph status` did not answer within 7s"
    assert h.all_problems(s) == [said]
    for criterion in (h.quorum_problems, h.mgr_problems, h.osd_problems, h.pg_problems, h.health_problems):
        assert criterion(s) == [said]
