"""Health: the criteria of the HEALTH_OK gate, each as its own check with its own verdict.

These run even when the gate failed, so a report says which criterion is not met. Each reads the
cluster in its own body: the verdict is about the cluster as the check ran.
"""

import pytest

from ceph_conformance import health as h

pytestmark = pytest.mark.health


def _snapshot(ceph):
    return h.take_snapshot(ceph)


def _assert_none(problems, what):
    __tracebackhide__ = True
    if problems:
        pytest.fail(f"{what}:\n  - " + "\n  - ".join(problems), pytrace=False)


@pytest.mark.smoke
def test_mons_in_quorum(ceph):
    """Every mon of the monmap is in quorum."""
    _assert_none(h.quorum_problems(_snapshot(ceph)), "monitors out of quorum")


def test_mgr_active(ceph):
    """A mgr is active."""
    _assert_none(h.mgr_problems(_snapshot(ceph)), "manager not available")


def test_every_osd_up_and_in(ceph):
    """No OSD is down or out; the failure names the ones that are."""
    health = _snapshot(ceph)
    _assert_none(h.osd_problems(health), f"OSDs not up and in ({health.osd_count} OSDs)")


def test_every_pg_active_clean(ceph):
    """Every PG is active+clean; the failure lists the other states."""
    _assert_none(h.pg_problems(_snapshot(ceph)), "placement groups not clean")


@pytest.mark.smoke
def test_health_ok_except_reviewed_mutes(ceph, muted_health):
    """HEALTH_OK, or only reviewed codes raised; mutes set on the cluster are reviewed too."""
    health = _snapshot(ceph)
    _assert_none(h.health_problems(health, muted_health), f"cluster is {health.status}")
