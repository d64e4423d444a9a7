"""pytest wiring of the conformance run: options, lifecycle, gate, reports, teardown.

Lifecycle of a run (a session that selects checks under suites/):
  configure     validate options, make the run id (controller) or take it (xdist worker), preflight
                of the target (controller), point pytest-html and JUnit at reports/<run-id>/
  sessionstart  (controller) sweep leftovers of crashed runs, mark the run dir
  first check   bring the cluster up and pass the HEALTH_OK gate, once per run behind a file lock
  every check   fails without running if bring-up or the gate failed (health checks still run)
  sessionfinish (controller) final gate, teardown (always, also on failure or Ctrl-C), results.json
"""

import signal
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from _pytest.reports import TestReport

from . import options as opts
from . import secrets
from .bounded import OperationTimeout, bounded, health_summary
from .clients.s3 import describe_unreachable
from .disruptive import Coordinator, is_disruptive, make_scheduler, order_key
from .errors import SetupError
from .host.processes import become_subreaper
from .host.sweep import mark_kept, release_clients, sweep_run_dir, sweep_stale, write_marker
from .ledger import Ledger
from .report import html, results
from .report.redact import scrub_report
from .run import Run, new_run_id, worker_id
from .secrets import scrub
from .session import ClusterSession
from .targets import make_target
from .targets.local.cluster import stop_run_dir_in_order

RUN_KEY = pytest.StashKey["RunContext"]()
UNGATED_MARKERS = ("health",)


class RunContext:
    def __init__(self, config, options, run, controller):
        self.config = config
        self.options = options
        self.run = run
        self.controller = controller
        self.target = make_target(options)
        self.started = False
        self.preflight_passed = False
        self.keep_lines = []
        self.collector = results.ResultsCollector()
        self.coordinator = Coordinator(run.session_dir)
        self.results = None
        self._session = None
        self.t0 = time.time()
        self.in_check = False

    def session(self):
        if self._session is None:
            self._session = ClusterSession(self.run, self.options, self.target, self.progress)
        return self._session

    def progress(self, message):
        line = f"[ceph {time.time() - self.t0:6.1f}s] {scrub(message)}"
        try:
            with open(self.run.run_dir / "progress.log", "a") as log:
                log.write(line + "\n")
        except OSError:
            pass
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if self.in_check:
            # Inside a check the terminal is captured: the line belongs to that check's output, and
            # going through the reporter would break its line of results.
            print(line, file=sys.stderr, flush=True)
        elif reporter is not None and self.controller:
            reporter.ensure_newline()
            reporter.write_line(line)
        else:
            print(line, file=sys.__stderr__, flush=True)

    def is_check(self, item):
        suites = self.config.rootpath / "suites"
        return suites in Path(item.path).parents


def selects_suites(config):
    """Whether this session runs conformance checks (paths under suites/), not the project's own tests."""
    suites = (config.rootpath / "suites").resolve()
    if not suites.is_dir():
        return False
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        path = path.resolve()
        if path == suites or suites in path.parents or path in suites.parents:
            return True
    return False


def _context(config):
    return config.stash.get(RUN_KEY, None)


def pytest_addoption(parser):
    opts.add_options(parser)


def _misparsed_root(config):
    """pytest settles its root directory before plugins load, so in `--ceph-conf /etc/ceph/ceph.conf`
    the value is taken for a test path and the suite's pyproject.toml is never read."""
    here = Path(config.invocation_params.dir)
    return config.inipath is None and (here / "suites").is_dir() and (here / "pyproject.toml").is_file()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if _misparsed_root(config):
        raise pytest.UsageError(
            "pytest took a path option's value for a test path and lost the suite's configuration: "
            "write path options with '=' (--ceph-conf=/etc/ceph/ceph.conf) or add -c pyproject.toml")
    try:
        options = opts.from_pytest(config)
    except opts.OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not selects_suites(config):
        return
    worker_input = getattr(config, "workerinput", None)
    run_id = worker_input["ceph_run_id"] if worker_input else new_run_id()
    run = Run(run_id, Path(options.run_root) / run_id, Path(options.report_dir) / run_id, worker_id())
    secrets.share(run.session_dir / "secrets")  # every process of the run masks every process's secrets
    ctx = RunContext(config, options, run, controller=worker_input is None)
    config.stash[RUN_KEY] = ctx
    config.pluginmanager.register(ResultsHooks(ctx), "ceph-conformance-results")
    config.pluginmanager.register(CheckScope(ctx), "ceph-conformance-check-scope")
    if ctx.controller and _runs_checks(config):
        # Before pytest-html and JUnit configure (they create the report directory): a host that
        # cannot run the target gets one line, not a traceback, and no run directory or report.
        try:
            ctx.target.preflight()
        except SetupError as exc:
            raise pytest.UsageError(str(exc)) from None
        ctx.preflight_passed = True
    if ctx.preflight_passed:
        if not config.option.htmlpath:
            config.option.htmlpath = str(run.report_dir / "report.html")
            config.option.self_contained_html = True
        if not config.option.xmlpath:
            config.option.xmlpath = str(run.report_dir / "junit.xml")
        become_subreaper()
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            # A CI timeout sends SIGTERM: tear down as on Ctrl-C instead of dying with daemons left.
            signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    ctx = _context(node.config)
    if ctx is not None:
        node.workerinput["ceph_run_id"] = ctx.run.run_id


def _runs_checks(config):
    """False for sessions that only list things (--collect-only, --help, --markers, --fixtures)."""
    o = config.option
    return not any(getattr(o, name, False) for name in ("collectonly", "help", "markers", "showfixtures",
                                                          "show_fixtures_per_test"))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    ctx = _context(session.config)
    if ctx is None or not ctx.controller or not ctx.preflight_passed:
        return
    if ctx.target.sweeps_leftovers():
        for run_dir, removed in sweep_stale(ctx.options.run_root, stop_in_order=stop_run_dir_in_order).items():
            ctx.progress(f"swept leftovers of an earlier run {run_dir}: {', '.join(removed)}")
    write_marker(ctx.run.run_dir, ctx.run.run_id)
    ctx.started = True


def pytest_collection_modifyitems(session, config, items):
    """The health checks first: they are the gate's criteria, judged right after it. The
    disruptive checks last: they change the cluster the others measure."""
    if _context(config) is not None:
        items.sort(key=lambda item: 0 if any(item.get_closest_marker(m) for m in UNGATED_MARKERS)
                   else 1 + order_key(item))


def pytest_collection_finish(session):
    ctx = _context(session.config)
    # Under xdist the controller collects nothing: the workers write the plan.
    if ctx is not None and not session.config.pluginmanager.has_plugin("dsession"):
        ctx.coordinator.write_plan(session.items, ctx.is_check)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    ctx = _context(config)
    return make_scheduler(config, log, ctx.coordinator) if ctx is not None else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    ctx = _context(item.config)
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
        report = TestReport(item.nodeid, item.location, keywords, outcome, longrepr, when,
                            user_properties=list(item.user_properties), start=now, stop=now)
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


BOUNDED_MARKERS = ("block", "sharedfs", "baseline")
ABANDONED = pytest.StashKey[object]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """A check abandoned at its bound may resume once storage recovers: let it finish (bounded)
    before its fixtures remove what it works on."""
    worker = item.stash.get(ABANDONED, None)
    if worker is not None:
        worker.join(_context(item.config).options.io_timeout)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Storage checks run under --io-timeout, and a failure says what Ceph's health says."""
    ctx = _context(pyfuncitem.config)
    if ctx is None or not any(pyfuncitem.get_closest_marker(m) for m in BOUNDED_MARKERS):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    client = ctx.target.client(timeout=20)
    diagnose = partial(health_summary, client)
    try:
        bounded(partial(pyfuncitem.obj, **args), what=pyfuncitem.name, timeout=ctx.options.io_timeout,
                diagnose=diagnose)
    except Exception as exc:
        if isinstance(exc, OperationTimeout):
            pyfuncitem.stash[ABANDONED] = exc.worker
        else:
            try:
                cause = diagnose()
            except Exception:  # noqa: BLE001 - the check's own failure stands without it
                cause = None
            if cause and "no health checks raised" not in cause:
                exc.add_note(f"the cluster says: {cause}")
        raise
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except Exception as exc:
        message = str(exc) if isinstance(exc, OperationTimeout) else describe_unreachable(exc)
        if message is None:
            raise
        # from None: the message says it all; the chain of connection errors would bury it.
        raise pytest.fail.Exception(scrub(message), pytrace=False) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    scrub_report(report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    ctx = _context(session.config)
    if ctx is None or not ctx.controller or not ctx.started:
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # teardown is bounded; let it finish
    try:
        _finish(ctx, session, exitstatus)
    finally:
        signal.signal(signal.SIGINT, previous)


def _finish(ctx, session, exitstatus):
    cs = ctx.session()
    cluster = cs.read("cluster.json")
    gate_start = cs.read("gate-start.json")
    gate_end = None
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if cluster and cluster["ok"] and gate_start and gate_start.get("ok") and not interrupted:
        ctx.target.attach(ctx.run.run_dir, cluster["description"])
        gate_end = cs.end_gate(ctx.coordinator.failed_on_purpose()).to_dict()
        if not gate_end["ok"]:
            ctx.progress("the run leaves the cluster unhealthy:\n" + "\n".join(gate_end["problems"]))
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if cluster and cluster["ok"] and not ctx.options.keep_cluster and not ctx.target.disposable:
        _remove_ledger(ctx, cs)
    usage = ctx.target.resource_usage() if cluster else {}
    teardown_s = None
    keep = ctx.options.keep_cluster and cluster and cluster["ok"]
    if keep:
        mark_kept(ctx.run.run_dir)
        ctx.keep_lines = ctx.target.keep_instructions(ctx.run.run_dir)
    else:
        ctx.progress("tearing down" + (" (interrupted)" if interrupted else ""))
        t0 = time.monotonic()
        try:
            released = release_clients(ctx.run.run_dir)  # what checks left mounted or running
            if released:
                ctx.progress("released clients the checks left: " + ", ".join(released))
            ctx.target.tear_down(ctx.run.run_dir, ctx.progress)
        finally:
            sweep_run_dir(ctx.run.run_dir)
        teardown_s = round(time.monotonic() - t0, 2)
        ctx.progress(f"teardown done in {teardown_s}s")
    ctx.results = {
        "run_id": ctx.run.run_id,
        "target": ctx.options.target,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.t0)),
        "finished": results.now_iso(),
        "duration_s": round(time.time() - ctx.t0, 1),
        "exit_status": int(session.exitstatus),
        "cluster": cluster,
        "phases": ((cluster or {}).get("description") or {}).get("phases", {}),
        "time_to_health_ok_s": results.time_to_health_ok(cluster, gate_start),
        "gate_start": gate_start,
        "gate_end": gate_end,
        "muted_health": sorted(set(ctx.options.mute_health)),
        "teardown_s": teardown_s,
        "resource_usage": usage,
        "kept": bool(keep),
        "counts": ctx.collector.counts(),
        "checks": list(ctx.collector.checks.values()),
        "metrics": ctx.collector.all_metrics(),
        "disruptive_steps": ctx.collector.all_steps(),
    }
    ctx.results["relative_to_rados_bench"] = results.relative_to_baseline(ctx.results["metrics"])
    results.write_results(ctx.run.report_dir / "results.json", ctx.results)
    results.point_latest(ctx.run.report_dir.parent, ctx.run.run_id)


def _remove_ledger(ctx, cs):
    """The ledger outlives the checks (any worker may verify it): the controller removes it."""
    record = cs.read("ledger.json")
    if not record or not record.get("ok"):
        return
    ctx.target.attach(ctx.run.run_dir, cs.read("cluster.json")["description"])
    book = Ledger(ctx.target, ctx.run.run_dir / "clients" / "ledger-removal", ctx.run.name, ctx.options.io_timeout)
    book.record = record
    for problem in book.cleanup():
        ctx.progress(problem)


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


class ResultsHooks:
    """Hooks that need the run context: every report is collected for results.json."""

    def __init__(self, ctx):
        self.ctx = ctx

    def pytest_runtest_logreport(self, report):
        self.ctx.collector.add(report)
        if self.ctx.controller and report.when not in ("setup", "call"):
            self.ctx.coordinator.note_finished(report.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix, summary, postfix, session):
        if self.ctx.results:
            prefix.extend(html.summary_html(self.ctx.results))


def pytest_html_report_title(report):
    report.title = "Ceph conformance report"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ctx = _context(config)
    if ctx is None or not ctx.results:
        return
    r = ctx.results
    tr = terminalreporter
    tr.section("ceph conformance")
    facts = (r.get("cluster") or {}).get("facts") or {}
    tr.write_line(f"target {r['target']}, run {r['run_id']}, Ceph {', '.join(facts.get('ceph_versions', [])) or '?'}, "
                  f"{facts.get('osd_count', '?')} OSDs")
    tth = r["time_to_health_ok_s"]
    tr.write_line(f"time to HEALTH_OK: {tth} s" if tth is not None else "HEALTH_OK: not reached")
    rss = (r.get("resource_usage") or {}).get("daemon_rss_mib")
    if rss:
        tr.write_line(f"daemons' resident memory at the end: {rss['total']} MiB")
    for m in r["metrics"]:
        tr.write_line(f"  {m['name']}: {m['value']} {m['unit']}  ({m['check'].split('::')[-1]})")
    for st in r.get("disruptive_steps", []):
        tr.write_line(f"  {st['step']} ({st['outcome']}): OSDs {st['osds_before']} -> {st['osds_after']}, raw "
                      f"{st['capacity_before_gib']} -> {st['capacity_after_gib']} GiB, recovery "
                      f"{st['recovery_s']} s, ledger {st['ledger']}")
    if r.get("gate_end") and not r["gate_end"]["ok"]:
        tr.write_line("FAILED: the run left the cluster unhealthy: " + "; ".join(r["gate_end"]["problems"]), red=True)
    for line in ctx.keep_lines:
        tr.write_line(line)
    tr.write_line(f"reports: {ctx.run.report_dir}/ (report.html, junit.xml, results.json)")
