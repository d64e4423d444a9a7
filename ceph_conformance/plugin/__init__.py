"""pytest wiring of the conformance run, installed as a pytest11 plugin and inert in any session
that does not run checks from suites/.

Lifecycle of a run (a session that selects checks under suites/):
  configure     validate options, make the run id (controller) or take it (xdist worker), preflight
                of the target (controller), point pytest-html and JUnit at reports/<run-id>/
  sessionstart  (controller) sweep leftovers of crashed runs, mark the run dir
  first check   bring the cluster up and pass the HEALTH_OK gate, once per run behind a file lock
  every check   fails without running if bring-up or the gate failed (health checks still run)
  sessionfinish (controller) final gate, teardown (always, also on failure, Ctrl-C or SIGTERM), results.json

Modules by job: context (the run's state), lifecycle (configure, finish, teardown), scheduling
(order, xdist, fail without running), execution (bounds and failure messages), summary (reports).
pytest collects the hooks from this module's namespace, hence the imports below.
"""

from .context import RUN_KEY, RunContext, context, selects_suites
from .execution import pytest_pyfunc_call, pytest_runtest_call, pytest_runtest_makereport, pytest_runtest_teardown
from .lifecycle import (
    pytest_addhooks,
    pytest_addoption,
    pytest_configure,
    pytest_configure_node,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_unconfigure,
)
from .scheduling import (
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_runtest_protocol,
    pytest_xdist_make_scheduler,
)
from .summary import pytest_terminal_summary

__all__ = [
    "RUN_KEY", "RunContext", "context", "selects_suites",
    "pytest_addhooks",
    "pytest_addoption", "pytest_configure", "pytest_configure_node", "pytest_sessionstart", "pytest_sessionfinish",
    "pytest_unconfigure",
    "pytest_collection_modifyitems", "pytest_collection_finish", "pytest_xdist_make_scheduler",
    "pytest_runtest_protocol", "pytest_pyfunc_call", "pytest_runtest_call", "pytest_runtest_makereport",
    "pytest_runtest_teardown", "pytest_terminal_summary",
]
