"""What runs when: health checks first, disruptive checks last (also under xdist), and checks that
must fail without running because bring-up or the HEALTH_OK gate failed."""

import time

import pytest

from ..ordering import FIRST, is_disruptive, make_scheduler, order_key
from .context import context

UNGATED_MARKERS = ("health",)


def run_order(item):
    """Sort key of a check in the run: the health checks first, as they are the gate's criteria,
    judged right after it. The RADOS baseline next: it measures alone, and under xdist the other
    worker then waits only for it, before any long set-up of its own has begun (rados bench
    waited up to 42 s for Ghost's first start on the other worker when it came later). The
    disruptive checks last: they change the cluster the others measure."""
    if any(item.get_closest_marker(m) for m in UNGATED_MARKERS):
        return 0
    if item.get_closest_marker(FIRST):
        return 1
    return 2 + order_key(item)


def pytest_collection_modifyitems(session, config, items):
    if context(config) is not None:
        items.sort(key=run_order)


def pytest_collection_finish(session):
    ctx = context(session.config)
    # Under xdist the controller collects nothing: the workers write the plan. A session that only
    # lists checks (--collect-only) runs none: it writes nothing under the run root.
    runs_checks = ctx is not None and (ctx.preflight_passed or not ctx.controller)
    if runs_checks and not session.config.pluginmanager.has_plugin("dsession"):
        ctx.coordinator.write_plan(session.items, ctx.is_check)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    ctx = context(config)
    return make_scheduler(config, log, ctx.coordinator) if ctx is not None else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    ctx = context(item.config)
    if ctx is None or not ctx.is_check(item):
        return None
    gated = not any(item.get_closest_marker(m) for m in UNGATED_MARKERS)
    failure = ctx.session().failure_for(gated)
    if failure is None and is_disruptive(item):
        failure = ctx.coordinator.gate_failure()
    if failure is None:
        return None
    _fail_without_running(item, failure)
    return True


def _fail_without_running(item, message):
    """Report a check as failed in its call phase without setting up its fixtures."""
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    keywords = {k: 1 for k in item.keywords}
    now = time.time()
    for when, outcome, longrepr in (("setup", "passed", None), ("call", "failed", message),
                                    ("teardown", "passed", None)):
        report = pytest.TestReport(item.nodeid, item.location, keywords, outcome, longrepr, when,
                                   user_properties=list(item.user_properties), start=now, stop=now)
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


class CheckScope:
    """Knows whether this process is inside a check, where progress lines belong to its output."""

    def __init__(self, ctx):
        self.ctx = ctx

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.ctx.in_check = True
        try:
            return (yield)
        finally:
            self.ctx.in_check = False
