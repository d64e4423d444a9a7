"""The run's lifecycle: options, configure, the sweep of crashed runs, and the controller's finish
(final gate, teardown, results.json) that runs whatever happened before it."""

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from .. import fio, secrets
from .. import options as opts
from ..errors import SetupError
from ..host import firstuse
from ..report import bundle, logs, page, product, results
from ..run import Run, new_run_id, worker_id
from . import quiet, serial_ast, toolcalls
from .context import RUN_KEY, RunContext, context, selects_suites
from .scheduling import CheckScope
from .summary import ResultsHooks

PYTEST_HTML = "pytest-html.html"

# Signals that end a run: on them teardown runs as on Ctrl-C, and while it runs they are held off.
ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def pytest_addoption(parser):
    opts.add_options(parser)


def pytest_addhooks(pluginmanager):
    """pytest-kind-ng, whose KindCluster the kind target uses as a library, is also a pytest plugin
    adding --keep-cluster and --kubeconfig, the suite's own options: block it when it has not loaded
    yet. When it loaded first, the suite shares those two options with it (options.py)."""
    if not pluginmanager.has_plugin(opts.PYTEST_KIND_PLUGIN):
        pluginmanager.set_blocked(opts.PYTEST_KIND_PLUGIN)


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
    # Installed as a pytest11 plugin (so that its options are known early), it is loaded by every
    # pytest session of the venv: it stays inert unless this session runs conformance checks.
    if not selects_suites(config):
        return
    try:
        options = opts.from_pytest(config)
    except opts.OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    worker_input = getattr(config, "workerinput", None)
    run_id = worker_input["ceph_run_id"] if worker_input else new_run_id()
    run = Run(run_id, Path(options.run_root) / run_id, Path(options.report_dir) / run_id, worker_id())
    secrets.share(run.session_dir / "secrets")  # every process of the run masks every process's secrets
    serial_ast.install()  # checks use threads; CPython 3.11's ast.parse is not safe in two at once
    ctx = RunContext(config, options, run, controller=worker_input is None)
    config.stash[RUN_KEY] = ctx
    firstuse.set_sink(ctx.announce)  # builds on first use say so on the terminal, also inside a check
    config.pluginmanager.register(ResultsHooks(ctx), "ceph-conformance-results")
    config.pluginmanager.register(CheckScope(ctx), "ceph-conformance-check-scope")
    config.pluginmanager.register(quiet, "ceph-conformance-quiet")  # measuring checks alone under -n
    config.pluginmanager.register(toolcalls, "ceph-conformance-tool-calls")  # each check's ceph commands
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
            # report.html is the suite's own page (report/page.py); pytest-html's list sits beside it.
            config.option.htmlpath = str(run.report_dir / PYTEST_HTML)
            config.option.self_contained_html = True
        if not config.option.xmlpath:
            config.option.xmlpath = str(run.report_dir / "junit.xml")
        ctx.target.prepare_runner()
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            # A CI timeout sends SIGTERM: tear down as on Ctrl-C instead of dying with daemons left.
            signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    ctx = context(node.config)
    if ctx is not None:
        node.workerinput["ceph_run_id"] = ctx.run.run_id


def _runs_checks(config):
    """False for sessions that only list things (--collect-only, --help, --markers, --fixtures)."""
    o = config.option
    return not any(getattr(o, name, False) for name in ("collectonly", "help", "markers", "showfixtures",
                                                          "show_fixtures_per_test"))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    ctx = context(session.config)
    if ctx is None or not ctx.controller or not ctx.preflight_passed:
        return
    ctx.target.sweep_crashed_runs(ctx.options.run_root, ctx.progress)
    ctx.target.claim_run_dir(ctx.run.run_dir, ctx.run.run_id)
    ctx.started = True


@contextmanager
def _signals_held_off():
    """Teardown is bounded: a second Ctrl-C or a SIGTERM (a CI timeout, a supervisor) must not
    abort it half-way and leave daemons, mounts and loop devices behind."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in ENDING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    ctx = context(session.config)
    if ctx is None or not ctx.controller or not ctx.started:
        return
    with _signals_held_off():
        _finish(ctx, session, exitstatus)


def _step(ctx, what, fn, default=None):
    """One step of the finish before teardown: its failure is reported and never stops teardown."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - reported; teardown must run whatever failed here
        ctx.progress(f"{what} failed: {type(exc).__name__}: {exc}")
        return default


def _stop_workers(ctx, session):
    """Under xdist the controller's finish runs before xdist's own, which stops the workers: after
    a SIGINT to the controller alone (kill -INT, a supervisor) or -x they are still running checks, and a
    check that ends after teardown writes its records into a run directory that teardown removed.
    Stop them first; xdist bounds this (10 s, then it kills them) and its own stop is then a no-op."""
    nodemanager = getattr(session.config.pluginmanager.getplugin("dsession"), "nodemanager", None)
    if nodemanager is None:
        return
    t0 = time.monotonic()
    nodemanager.teardown_nodes()
    ctx.progress(f"workers stopped in {time.monotonic() - t0:.1f}s")


def _finish(ctx, session, exitstatus):
    _step(ctx, "stopping the xdist workers", lambda: _stop_workers(ctx, session))
    cs = ctx.session()
    cluster = cs.read("cluster.json")
    gate_start = cs.read("gate-start.json")
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    # The controller may never have touched the cluster (xdist workers brought it up, or bring-up
    # failed half-way): attach it from the run's records, so the target can measure and remove it.
    ctx.target.attach(ctx.run.run_dir, (cluster or {}).get("description") or {})
    up = bool(cluster and cluster["ok"])
    gate_end = None
    if up and gate_start and gate_start.get("ok") and not interrupted:
        gate_end = _step(ctx, "the final HEALTH_OK gate",
                         lambda: cs.end_gate(ctx.coordinator.failed_on_purpose()).to_dict())
        if gate_end is None or not gate_end["ok"]:
            if gate_end is not None:
                ctx.progress("the run leaves the cluster unhealthy:\n" + "\n".join(gate_end["problems"]))
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
    usage = _step(ctx, "measuring the cluster's resource usage", ctx.target.resource_usage, default={})
    keep = ctx.options.keep_cluster and up
    # Before teardown removes them with the run directory.
    _step(ctx, "keeping the cluster's logs",
          lambda: logs.keep(ctx.target.log_files(ctx.run.run_dir), ctx.run.report_dir / "logs"))
    teardown_s, teardown_error = None, None
    try:
        if keep:
            ctx.target.keep_run(ctx.run.run_dir)
            ctx.keep_lines = _step(ctx, "describing the kept cluster",
                                   lambda: ctx.target.keep_instructions(ctx.run.run_dir), default=[])
        else:
            teardown_s, teardown_error = _tear_down(ctx, interrupted)
    finally:
        ctx.results = _results(ctx, session, cluster, gate_start, gate_end, usage, keep, teardown_s,
                               teardown_error)
        results.write_results(ctx.run.report_dir / "results.json", ctx.results)
        results.write_results(ctx.run.report_dir / "product.json", ctx.results["product"])
        _step(ctx, "writing report.html",
              lambda: page.write_run_page(ctx.run.report_dir / "report.html", ctx.results, PYTEST_HTML))
        results.point_latest(ctx.run.report_dir.parent, ctx.run.run_id)
    if teardown_error and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    """After pytest-html and JUnit wrote their files (in sessionfinish): the run's bundle."""
    ctx = context(config)
    if ctx is not None:
        firstuse.set_sink(None)
    if ctx is None or not ctx.controller or ctx.results is None:
        return
    try:
        bundle.write_bundle(ctx.run.report_dir)
    except OSError as exc:
        print(f"[ceph] writing the results bundle failed: {exc}", file=sys.stderr)


def _tear_down(ctx, interrupted):
    """Clients, then the cluster, then whatever of the run is left. Returns (seconds, error)."""
    ctx.progress("tearing down" + (" (interrupted)" if interrupted else ""))
    t0 = time.monotonic()
    error = None
    try:
        released = ctx.target.release_clients(ctx.run.run_dir)  # what checks left mounted or running
        if released:
            ctx.progress("released clients the checks left: " + ", ".join(released))
        ctx.target.tear_down(ctx.run.run_dir, ctx.progress)
    except Exception as exc:  # noqa: BLE001 - the sweep below still runs; the run fails saying why
        error = f"{type(exc).__name__}: {exc}"
        ctx.progress(f"teardown failed: {error}; sweeping what is left of the run")
    finally:
        ctx.target.sweep_run(ctx.run.run_dir)
    seconds = round(time.monotonic() - t0, 2)
    ctx.progress(f"teardown done in {seconds}s")
    return seconds, error


def _results(ctx, session, cluster, gate_start, gate_end, usage, keep, teardown_s, teardown_error):
    r = {
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
        "teardown_error": teardown_error,
        "resource_usage": usage or {},
        "kept": bool(keep),
        "counts": ctx.collector.counts(),
        "checks": list(ctx.collector.checks.values()),
        "metrics": ctx.collector.all_metrics(),
        "disruptive_steps": ctx.collector.all_steps(),
        "product": product.describe(ctx.options, cluster, ctx.config),
    }
    r["relative_to_rados_bench"] = results.relative_to_baseline(r["metrics"])
    r["fio"] = fio.summary(r["metrics"])
    if r["fio"] is not None:  # under -n: whether each measuring check had the cluster to itself
        r["fio"]["measured"] = [f"{c['nodeid'].split('::')[-1]}: {c['measured']}" for c in r["checks"]
                                if c.get("measured")]
    return r
