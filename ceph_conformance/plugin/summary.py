"""What the run tells people: every report collected for results.json, the HTML summary and title,
and the terminal summary."""

import json
import time

import pytest

from ..report import page
from ..report.bundle import bundle_path
from .context import context

FIXTURE_SHOWN_S = 0.1  # a fixture's own set-up at least this long is named in results.json


class FixtureTimes:
    """Each fixture a check sets up, timed in the process that runs the check: its own time, less
    the fixtures it asked for from its body (request.getfixturevalue), as the check's user property
    "fixture_setup" (JSON [{name, scope, seconds}], those of FIXTURE_SHOWN_S or more, in the order
    they finished). A broader fixture than the check's own is set up in the first check that uses
    it: where a MinIO build or a database's first start shows up."""

    def __init__(self):
        self._item, self._times, self._inner = None, [], []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        self._item, self._times, self._inner = item, [], []
        try:
            return (yield)
        finally:
            if self._times:
                item.user_properties.append(("fixture_setup", json.dumps(self._times)))
            self._item = None

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if self._item is None:  # a fixture asked for from a check's body or its teardown
            return (yield)
        self._inner.append(0.0)
        began = time.monotonic()
        try:
            return (yield)
        finally:
            took = time.monotonic() - began
            own = took - self._inner.pop()
            if self._inner:
                self._inner[-1] += took
            if own >= FIXTURE_SHOWN_S:
                self._times.append({"name": fixturedef.argname, "scope": fixturedef.scope,
                                    "seconds": round(own, 2)})


class ResultsHooks(FixtureTimes):
    """Registered only in a conformance run: every report is collected for results.json (with the
    fixtures each check set up), and the HTML report gets the conformance summary and title."""

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx

    def pytest_runtest_logreport(self, report):
        self.ctx.collector.add(report)
        if self.ctx.controller and report.when not in ("setup", "call"):
            self.ctx.coordinator.note_finished(report.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix, summary, postfix, session):
        if self.ctx.results:
            prefix.append(page.pytest_html_prefix(self.ctx.results))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report):
        report.title = "Ceph conformance report"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ctx = context(config)
    if ctx is None or not ctx.results:
        return
    r = ctx.results
    tr = terminalreporter
    tr.section("ceph conformance")
    facts = (r.get("cluster") or {}).get("facts") or {}
    tr.write_line(f"target {r['target']}, run {r['run_id']}, Ceph {', '.join(facts.get('ceph_versions', [])) or '?'}, "
                  f"{facts.get('osd_count', '?')} OSDs, {facts.get('mon_count', '?')} mons, pool size/min_size "
                  f"{', '.join(facts.get('pool_sizes') or {}) or '?'}")
    tth = r["time_to_health_ok_s"]
    tr.write_line(f"time to HEALTH_OK: {tth} s" if tth is not None else "HEALTH_OK: not reached")
    rss = (r.get("resource_usage") or {}).get("daemon_rss_mib")
    if rss:
        tr.write_line(f"daemons' resident memory at the end: {rss['total']} MiB")
    counts = {}
    for m in r["metrics"]:
        if m["unit"] == "count":  # a tally every check keeps (S3 retries): one line with the total
            counts.setdefault(m["name"], []).append(m["value"])
        else:
            tr.write_line(f"  {m['name']}: {m['value']} {m['unit']}  ({m['check'].split('::')[-1]})")
    for name, values in counts.items():
        tr.write_line(f"  {name}: {sum(values):g} in all, over {len(values)} checks")
    for st in r.get("disruptive_steps", []):
        tr.write_line(f"  {st['step']} ({st['outcome']}): OSDs {st['osds_before']} -> {st['osds_after']}, raw "
                      f"{st['capacity_before_gib']} -> {st['capacity_after_gib']} GiB, recovery "
                      f"{st['recovery_s']} s, ledger {st['ledger']}")
    if r.get("gate_end") and not r["gate_end"]["ok"]:
        tr.write_line("FAILED: the run left the cluster unhealthy: " + "; ".join(r["gate_end"]["problems"]), red=True)
    for line in ctx.keep_lines:
        tr.write_line(line)
    tr.write_line(f"reports: {ctx.run.report_dir}/ (report.html, pytest-html.html, junit.xml, results.json, logs/)")
    tr.write_line(f"bundle: {bundle_path(ctx.run.report_dir)}")
