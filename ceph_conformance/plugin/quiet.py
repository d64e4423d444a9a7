"""Checks that measure throughput run alone under xdist, so their figures are the cluster's and
not shared with another worker's checks.

Measured on the 2-core machine: with two workers, fio's figures beside the suite's disagreed by
up to 3x, depending on what the other worker was doing. A check marked `measures` takes the run's
quiet lock exclusively for its body; every other check of an xdist run holds it shared from set-up
to teardown. A turnstile in front of it keeps a waiting measurer from being starved by the other
workers' next checks. Disruptive checks take no part: they run alone after all others anyway, and
their set-up waits for the others to finish (holding a shared lock there would deadlock with a
measurer waiting for it). Checks other than the health checks also wait for the RADOS
baseline to finish (ordering.py, "the baseline first"). A serial run (no -n) takes no lock and
runs the baseline right after the health checks anyway. Every wait is bounded: past it the
check runs anyway and its report says it was not alone.
"""

import time
from contextlib import contextmanager

import fasteners
import pytest
from filelock import FileLock, Timeout

from ..ordering import is_disruptive
from ..waits import WaitTimeout
from .context import context
from .scheduling import UNGATED_MARKERS

MARKER = "measures"
WAIT_S = 600  # longer than any one check, the app checks' first start included


class QuietLock:
    def __init__(self, directory):
        self.turnstile = FileLock(str(directory / "quiet.turnstile"))
        self.rw = fasteners.InterProcessReaderWriterLock(str(directory / "quiet.rw"))

    @contextmanager
    def shared(self, timeout=WAIT_S):
        """Held by every other check: yields the seconds it waited, or None if it gave up."""
        t0 = time.monotonic()
        got = False
        try:
            with self.turnstile.acquire(timeout=timeout):
                got = self.rw.acquire_read_lock(timeout=max(0.0, timeout - (time.monotonic() - t0)))
        except Timeout:
            pass
        try:
            yield round(time.monotonic() - t0, 1) if got else None
        finally:
            if got:
                self.rw.release_read_lock()

    @contextmanager
    def alone(self, timeout=WAIT_S):
        """Held by a measuring check: yields the seconds it waited for the others, or None if they
        were still running at the bound."""
        t0 = time.monotonic()
        try:
            self.turnstile.acquire(timeout=timeout)
        except Timeout:
            yield None
            return
        try:
            got = self.rw.acquire_write_lock(timeout=max(0.0, timeout - (time.monotonic() - t0)))
            try:
                yield round(time.monotonic() - t0, 1) if got else None
            finally:
                if got:
                    self.rw.release_write_lock()
        finally:
            self.turnstile.release()


def _quiet(ctx):
    lock = getattr(ctx, "quiet_lock", None)
    if lock is None:
        lock = ctx.quiet_lock = QuietLock(ctx.run.session_dir)
    return lock


def _applies(item):
    ctx = context(item.config)
    if ctx is None or ctx.run.worker == "main" or not ctx.is_check(item) or is_disruptive(item):
        return None
    return ctx


def _after_the_baseline(ctx, item):
    """A gated check starts once the baseline has measured (ordering.py, "the baseline first")."""
    if any(item.get_closest_marker(m) for m in UNGATED_MARKERS) or ctx.coordinator.is_first(item.nodeid):
        return
    try:
        ctx.coordinator.wait_for_first(WAIT_S)
    except WaitTimeout as exc:
        item.add_report_section("setup", "quiet lock", f"started before the baseline had measured: {exc}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    ctx = _applies(item)
    if ctx is None or item.get_closest_marker(MARKER):
        return (yield)
    _after_the_baseline(ctx, item)
    with _quiet(ctx).shared() as waited:
        if waited is None:
            item.add_report_section("setup", "quiet lock", f"ran without the shared quiet lock (not free in {WAIT_S}s)")
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    ctx = _applies(item)
    if ctx is None or not item.get_closest_marker(MARKER):
        return (yield)
    with _quiet(ctx).alone() as waited:
        if waited is None:
            text = f"measured while other checks ran: they did not finish within {WAIT_S}s"
        else:
            text = f"measured alone: waited {waited}s for the other workers' checks to finish"
        item.user_properties.append(("quiet", text))
        ctx.progress(f"{item.name}: {text}")
        return (yield)
