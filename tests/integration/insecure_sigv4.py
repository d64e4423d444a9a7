"""Loaded into a suite run by a project test (-p): once the cluster is up and before the first check,
set rgw_sigv4_insecure on the run's local RGW (Ceph 20.2.4 and later) and restart it. RGW then takes
SigV4 requests carrying x-amz-* headers they were not signed with again, as 18.2 and 16.2 do: the
defect the presigned checks know on those releases, on a release that has the fix."""

import pytest

from ceph_conformance.plugin import context
from ceph_conformance.targets.local.cluster import LocalCluster


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    ctx = context(item.config)
    if ctx is not None and ctx.is_check(item):
        session = ctx.session()
        if session.cluster()["ok"]:
            session.once("insecure-sigv4.json", 300, lambda: _break(ctx.run.run_dir))
    return (yield)


def _break(run_dir):
    cluster = LocalCluster(run_dir / "cluster")
    cluster.client().ceph("config", "set", "client.rgw.a", "rgw_sigv4_insecure", "true")
    stopped = cluster.stop_daemon("client.rgw.a", timeout=3)
    cluster.start_daemon("client.rgw.a")
    cluster.wait_rgw()
    return {"client.rgw.a": stopped}
