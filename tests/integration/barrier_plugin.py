"""Loaded into a suite run by a project test (-p): after the checks, before the final gate and
teardown, wait until the test has broken the cluster (it creates the barrier file)."""

import os
import time
from pathlib import Path

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    result = yield
    barrier = Path(os.environ["CCONF_SELFTEST_BARRIER"])
    deadline = time.monotonic() + 120
    while not barrier.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return result
