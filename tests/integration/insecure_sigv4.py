"""Loaded into a suite run by a project test (-p): once the cluster is up and before the first check,
set rgw_sigv4_insecure on the run's local RGW (Ceph 20.2.4 and later) and restart it. RGW then takes
SigV4 requests carrying x-amz-* headers they were not signed with again, as 18.2 and 16.2 do: the
defect the presigned checks know on those releases, on a release that has the fix."""

import pytest

from .once_before_checks import once_before_checks


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    once_before_checks(item, "insecure-sigv4.json", _break)
    return (yield)


def _break(cluster):
    cluster.client().ceph("config", "set", "client.rgw.a", "rgw_sigv4_insecure", "true")
    stopped = cluster.stop_daemon("client.rgw.a", timeout=3)
    cluster.start_daemon("client.rgw.a")
    cluster.wait_rgw()
    return {"client.rgw.a": stopped}
