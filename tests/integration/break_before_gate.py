"""Loaded into a suite run by a project test (-p): once the cluster is up and before the HEALTH_OK
gate runs, stop osd.0 of the run's local cluster (with noout, so it stays down and in). The gate
then cannot pass, in whichever xdist worker runs the first check."""

import pytest

from ceph_conformance.plugin import context
from ceph_conformance.targets.local.cluster import LocalCluster


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    ctx = context(item.config)
    if ctx is not None and ctx.is_check(item):
        session = ctx.session()
        if session.cluster()["ok"]:
            session.once("broken-before-gate.json", 300, lambda: _break(ctx.run.run_dir))
    return (yield)


def _break(run_dir):
    cluster = LocalCluster(run_dir / "cluster")
    cluster.client().ceph("osd", "set", "noout")
    return {"osd.0": cluster.stop_daemon("osd.0")}
