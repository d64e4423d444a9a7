"""Loaded into a suite run by a project test (-p) so the test can break the cluster at a chosen
moment. With CCONF_SELFTEST_BARRIER=PATH:

- CCONF_SELFTEST_BARRIER_CHECK unset: after all checks, before the final gate and teardown, wait
  for PATH to exist.
- CCONF_SELFTEST_BARRIER_CHECK=NAME: around the call of the first check whose id contains NAME:
  create PATH.before and wait for PATH.broken; afterwards create PATH.after and wait for PATH.healed.
"""

import os
from pathlib import Path

import pytest

from ceph_conformance.waits import WaitTimeout, wait_for

BOUND = 300


def _wait_for(path):
    # Bounded; past the bound the run goes on and the test that set the barrier fails on its own.
    try:
        wait_for(lambda: (path.exists(), f"{path} not there"), what=f"{path}", timeout=BOUND, interval=0.1)
    except WaitTimeout:
        pass


def _barrier():
    return Path(os.environ["CCONF_SELFTEST_BARRIER"])


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    result = yield
    if not os.environ.get("CCONF_SELFTEST_BARRIER_CHECK"):
        _wait_for(_barrier())
    return result


_done = []


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    name = os.environ.get("CCONF_SELFTEST_BARRIER_CHECK")
    if not name or _done or name not in item.nodeid:
        return (yield)
    _done.append(item.nodeid)
    barrier = _barrier()
    Path(f"{barrier}.before").touch()
    _wait_for(Path(f"{barrier}.broken"))
    try:
        return (yield)
    finally:
        Path(f"{barrier}.after").touch()
        _wait_for(Path(f"{barrier}.healed"))
