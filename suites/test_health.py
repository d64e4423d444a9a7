"""Health: the criteria of the HEALTH_OK gate, each as its own check with its own verdict.

These run even when the gate failed, so a report says which criterion is not met.
"""

import pytest

from ceph_conformance import health as h

pytestmark = pytest.mark.health


def _assert_none(problems, what):
    __tracebackhide__ = True
    if problems:
        pytest.fail(f"{what}:\n  - " + "\n  - ".join(problems), pytrace=False)


@pytest.mark.smoke
def test_mons_in_quorum(health):
    _assert_none(h.quorum_problems(health), "monitors out of quorum")


def test_mgr_active(health):
    _assert_none(h.mgr_problems(health), "manager not available")


def test_every_osd_up_and_in(health):
    _assert_none(h.osd_problems(health), f"OSDs not up and in ({health.osd_count} OSDs)")


def test_every_pg_active_clean(health):
    _assert_none(h.pg_problems(health), "placement groups not clean")


@pytest.mark.smoke
def test_health_ok_except_reviewed_mutes(health, muted_health):
    _assert_none(h.health_problems(health, muted_health), f"cluster is {health.status}")
