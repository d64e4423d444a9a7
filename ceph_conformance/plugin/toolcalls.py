"""Each check's calls of Ceph's tools (ceph, rados, rbd, radosgw-admin), counted from its set-up to
the end of its teardown in the process that ran it, as a user property: results.json's
`tool_calls` and `make bench`'s breakdown say where a check's time went."""

import json

import pytest

from .. import toolstats
from .context import context

_START = pytest.StashKey[dict]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if context(item.config) is not None:
        item.stash[_START] = toolstats.snapshot()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        before = item.stash.get(_START, None)
        if before is not None:
            item.user_properties.append(("tool_calls", json.dumps(toolstats.since(before))))
