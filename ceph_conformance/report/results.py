"""results.json: what ran where, how long it took, what it measured, and the verdicts."""

import json
import os
import time
from itertools import groupby
from pathlib import Path

from ..secrets import scrub
from . import metrics


class ResultsCollector:
    """Fed every test report on the controller; keeps one entry per check."""

    def __init__(self):
        self.checks = {}

    def add(self, report):
        entry = self.checks.setdefault(
            report.nodeid,
            {"nodeid": report.nodeid, "outcome": "passed", "duration_s": 0.0, "metrics": [], "message": None,
             "markers": sorted(k for k in report.keywords if k in MARKERS)},
        )
        entry["duration_s"] = round(entry["duration_s"] + report.duration, 3)
        # When the check began (setup), when its body began (call: after its fixtures, which may
        # wait, e.g. a disruptive check for the others) and when it ended (teardown), in epoch
        # seconds: the order checks ran in, across xdist workers.
        if report.when in ("setup", "call"):
            entry["started" if report.when == "setup" else "call_started"] = round(getattr(report, "start", 0.0), 3)
        if report.when == "setup":
            # How long its fixtures took (pytest's setup phase); the fixtures by name come with the
            # teardown report ("fixtures"). Runs before these were recorded have neither: readers
            # take the set-up from "started" to "call_started" (report/charts.py).
            entry["setup_s"] = round(report.duration, 3)
        entry["finished"] = round(getattr(report, "stop", 0.0), 3)
        if report.failed and report.when == "teardown" and entry["outcome"] != "passed":
            entry["teardown_error"] = _short(report)  # the check's own verdict stands
        elif report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["message"] = _short(report)
        elif report.skipped and hasattr(report, "wasxfail"):
            # A known defect of the version under test (pytest.xfail in the check, with what it saw).
            entry["outcome"] = "xfailed"
            entry["message"] = scrub(report.wasxfail or "expected to fail")
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["message"] = _short(report)
        if report.when == "teardown":
            # A teardown report carries every section the check captured (stdout, stderr, logs).
            output = captured_output(report.sections)
            if output:
                entry["output"] = output
            entry["metrics"] = metrics.parse(report.user_properties)
            steps = metrics.steps(report.user_properties)
            if steps:
                entry["steps"] = steps
            calls = metrics.values(report.user_properties, "tool_calls")
            if calls:  # Ceph's tools this check ran: {tool: {calls, seconds}} (plugin/toolcalls.py)
                entry["tool_calls"] = json.loads(calls[-1])
            fixtures = metrics.values(report.user_properties, "fixture_setup")
            if fixtures:  # [{name, scope, seconds}] (plugin/summary.py: FixtureTimes)
                entry["fixtures"] = json.loads(fixtures[-1])
            quiet = metrics.values(report.user_properties, "quiet")
            if quiet:  # under -n: did a measuring check have the cluster to itself (plugin/quiet.py)
                entry["measured"] = quiet[-1]

    def counts(self):
        out = {}
        for entry in self.checks.values():
            out[entry["outcome"]] = out.get(entry["outcome"], 0) + 1
        return out

    def all_steps(self):
        return [{"check": e["nodeid"], "outcome": e["outcome"], **step}
                for e in self.checks.values() for step in e.get("steps", [])]

    def all_metrics(self):
        rows = []
        for entry in self.checks.values():
            for m in entry["metrics"]:
                rows.append({"check": entry["nodeid"], **m})
        return rows


MARKERS = {"health", "object", "block", "sharedfs", "scale", "removal", "disruptive", "smoke", "baseline", "measures"}
BASELINE_WRITE, BASELINE_READ = "rados_bench_write", "rados_bench_seq_read"


def relative_to_baseline(metric_rows):
    """Each MB/s figure as a fraction of the run's rados bench (writes to writes, reads to reads)."""
    by_name = {m["name"]: m["value"] for m in metric_rows}
    out = {}
    for m in metric_rows:
        if m["unit"] != "MB/s" or m["name"] in (BASELINE_WRITE, BASELINE_READ):
            continue
        reads = any(word in m["name"] for word in ("read", "get"))
        base = by_name.get(BASELINE_READ if reads else BASELINE_WRITE)
        if base:
            out[m["name"]] = round(m["value"] / base, 3)
    return out


OUTPUT_HEAD, OUTPUT_TAIL = 4000, 16000  # characters of a check's captured output kept in results.json


def captured_output(sections):
    text = "\n".join(f"----- {title} -----\n{content.rstrip()}" for title, content in sections if content.strip())
    if len(text) <= OUTPUT_HEAD + OUTPUT_TAIL:
        return text
    cut = len(text) - OUTPUT_HEAD - OUTPUT_TAIL
    return f"{text[:OUTPUT_HEAD]}\n... ({cut} characters cut; the whole output is in pytest-html.html) ...\n" \
           f"{text[-OUTPUT_TAIL:]}"


EXPLANATION_LINES = 6
LINE_CHARS = 200  # of pytest's explanation; the check's own message is kept whole


def _short(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return scrub(str(report.longrepr[2]))
    text = report.longreprtext if hasattr(report, "longreprtext") else str(report.longrepr)
    lines = [line for line in scrub(text).splitlines() if line.strip()]
    # The last run of "E " lines is the exception that ended the check. An assertion's own message
    # comes first and is kept; pytest's explanation after it ("assert ...", a diff of two 64 KiB
    # strings) can run to thousands of lines and is cut. A plain message (pytrace=False) has no
    # "E " lines.
    groups = [list(run) for is_error, run in groupby(lines, key=lambda line: line.startswith("E ")) if is_error]
    if not groups:
        return "\n".join(lines)[:6000]
    last = [line[1:].strip() for line in groups[-1]]
    # A bare assert has no message of its own: all of it is explanation.
    cut = next((i for i, line in enumerate(last) if line.startswith("assert ")), len(last))
    message = "\n".join(last[:cut])[:6000]
    explanation = [line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + " ..." for line in last[cut:]]
    if len(explanation) > EXPLANATION_LINES:
        left = len(explanation) - EXPLANATION_LINES
        explanation = [*explanation[:EXPLANATION_LINES], f"... ({left} more lines in the full report)"]
    return "\n".join([message, *explanation] if message else explanation)


def time_to_health_ok(cluster, gate):
    if not cluster or not cluster.get("ok") or not gate or not gate.get("ok"):
        return None
    return round(cluster.get("seconds", 0) + gate["waited_s"], 1)


def write_results(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scrub(json.dumps(payload, indent=2, default=str)))


def point_latest(report_root, run_id):
    """reports/latest -> <run-id>, replaced atomically."""
    link = Path(report_root) / "latest"
    tmp = Path(report_root) / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_id)
    tmp.replace(link)


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
