"""How a check runs: storage checks under --io-timeout, failures said in one line where the cause is
known, secrets masked in every report."""

import inspect
from functools import partial

import pytest

from ..bounded import OperationTimeout, bounded, health_summary, settle_abandoned
from ..clients.s3 import describe_unreachable
from ..report.redact import scrub_report
from ..secrets import scrub
from .context import context

BOUNDED_MARKERS = ("block", "sharedfs", "baseline")
OBJECT_MARKER = "object"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """An operation abandoned at its bound (by this check or an earlier one) may resume once storage
    recovers: let it finish, bounded, before fixtures remove the mounts and volumes it works on."""
    ctx = context(item.config)
    if ctx is None:
        return
    blocked = settle_abandoned(ctx.options.io_timeout)
    if blocked:
        text = (f"still blocked after a further {ctx.options.io_timeout:.0f}s, while fixtures are torn down "
                f"under it: {'; '.join(blocked)}")
        item.add_report_section("teardown", "blocked I/O", text)
        ctx.progress(text)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Storage checks run under --io-timeout, and a failure says what Ceph's health says."""
    ctx = context(pyfuncitem.config)
    if ctx is None or not any(pyfuncitem.get_closest_marker(m) for m in BOUNDED_MARKERS):
        return None
    params = inspect.signature(pyfuncitem.obj).parameters
    args = {name: value for name, value in pyfuncitem.funcargs.items() if name in params}
    client = ctx.target.client(timeout=20)
    diagnose = partial(health_summary, client)
    try:
        bounded(partial(pyfuncitem.obj, **args), what=pyfuncitem.name, timeout=ctx.options.io_timeout,
                diagnose=diagnose)
    except OperationTimeout:
        raise
    except Exception as exc:
        try:
            cause = diagnose()
        except Exception:  # noqa: BLE001 - the check's own failure stands without it
            cause = None
        if cause and "no health checks raised" not in cause:
            exc.add_note(f"the cluster says: {cause}")
        raise
    return True


def one_line_failure(exc, object_check):
    """The one line a failure is reported with instead of a traceback, or None to keep the traceback.

    "S3 endpoint unreachable" is said only for the object checks: a connection error elsewhere (a web
    app serving CephFS, a database) is about that service, and keeps its own message."""
    if isinstance(exc, OperationTimeout):
        return str(exc)
    return describe_unreachable(exc) if object_check else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    ctx = context(item.config)
    try:
        return (yield)
    except Exception as exc:
        message = one_line_failure(exc, item.get_closest_marker(OBJECT_MARKER) is not None) if ctx else None
        if message is None:
            raise
        # from None: the message says it all; the chain of connection errors would bury it.
        raise pytest.fail.Exception(scrub(message), pytrace=False) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # In every session, not only conformance runs: wherever the harness library registered a secret
    # (the project's own tests use it too), no report may show it.
    report = yield
    scrub_report(report)
    return report
