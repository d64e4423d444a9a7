"""Ceph 16 JSON shapes, trimmed from real `ceph status`, `health detail` and `osd dump` output."""

import copy


def status(pgs=None, quorum=("a",), num_mons=1, mgr=True, health="HEALTH_OK", checks=None, mutes=()):
    return {
        "health": {"status": health, "checks": checks or {}, "mutes": list(mutes)},
        "quorum_names": list(quorum),
        "monmap": {"epoch": 1, "min_mon_release_name": "pacific", "num_mons": num_mons},
        "osdmap": {"epoch": 25, "num_osds": 3, "num_up_osds": 3, "num_in_osds": 3},
        "pgmap": {"pgs_by_state": [{"state_name": s, "count": n} for s, n in (pgs or {"active+clean": 57}).items()],
                  "num_pgs": sum((pgs or {"active+clean": 57}).values()), "bytes_total": 19327352832},
        "mgrmap": {"available": mgr},
    }


OSD_DOWN = {
    "OSD_DOWN": {"severity": "HEALTH_WARN", "summary": {"message": "1 osds down", "count": 1},
                 "detail": [{"message": "osd.1 (root=default,host=node2) is down"}], "muted": False},
    "OSD_HOST_DOWN": {"severity": "HEALTH_WARN", "summary": {"message": "1 host (1 osds) down", "count": 1},
                      "detail": [{"message": "host node2 (root=default) (1 osds) is down"}], "muted": False},
}


def health_detail(health="HEALTH_OK", checks=None, mutes=()):
    return {"status": health, "checks": copy.deepcopy(checks or {}), "mutes": [{"code": m} for m in mutes]}


def osd_dump(down=(), out=()):
    return {"osds": [{"osd": i, "up": int(i not in down), "in": int(i not in out)} for i in range(3)]}
