"""Loaded into a suite run by a project test (-p): once the cluster is up and before the HEALTH_OK
gate runs, stop osd.0 of the run's local cluster (with noout, so it stays down and in). The gate
then cannot pass, in whichever xdist worker runs the first check."""

import pytest

from .once_before_checks import once_before_checks


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    once_before_checks(item, "broken-before-gate.json", _break)
    return (yield)


def _break(cluster):
    cluster.client().ceph("osd", "set", "noout")
    return {"osd.0": cluster.stop_daemon("osd.0")}
