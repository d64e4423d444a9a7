"""Loaded into a suite run by a project test (-p) so the test can break the cluster at a chosen
moment. With CCONF_SELFTEST_BARRIER=PATH:

- CCONF_SELFTEST_BARRIER_CHECK unset: after all checks, before the final gate and teardown, wait
  for PATH to exist.
- CCONF_SELFTEST_BARRIER_CHECK=NAME: around the call of the first check whose id contains NAME:
  create PATH.before and wait for PATH.broken; afterwards create PATH.after and wait for PATH.healed.
- CCONF_SELFTEST_BARRIER_CHECK=NAME0,NAME1,...: the same around the first check matching each
  name, with PATH.<i>.before, PATH.<i>.broken, ... for the i-th name (barrier_paths), so one
  suite run breaks several checks in turn.
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


def barrier_paths(barrier, index, count):
    """The files of the index-th of count names: PATH.before, .broken, .after, .healed for one name
    (as ever); PATH.<index>.before, ... for each of several."""
    base = f"{barrier}" if count == 1 else f"{barrier}.{index}"
    return {phase: Path(f"{base}.{phase}") for phase in ("before", "broken", "after", "healed")}


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    result = yield
    if not os.environ.get("CCONF_SELFTEST_BARRIER_CHECK"):
        _wait_for(_barrier())
    return result


_done = set()  # indexes of the names whose check has had its barrier


def _names():
    value = os.environ.get("CCONF_SELFTEST_BARRIER_CHECK", "")
    return [name for name in value.split(",") if name]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    names = _names()
    index = next((i for i, name in enumerate(names) if i not in _done and name in item.nodeid), None)
    if index is None:
        return (yield)
    _done.add(index)
    paths = barrier_paths(_barrier(), index, len(names))
    paths["before"].touch()
    _wait_for(paths["broken"])
    try:
        return (yield)
    finally:
        paths["after"].touch()
        _wait_for(paths["healed"])
