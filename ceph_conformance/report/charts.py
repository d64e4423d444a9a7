"""Geometry of the report's pictures, from results.json: throughput beside the rados bench baseline,
the run's timeline, and OSDs and capacity through the disruptive steps. Only numbers here; the
SVG markup is in templates/charts.html.j2."""

import calendar
import textwrap
import time
from dataclasses import dataclass, field

from .features import function_name
from .results import BASELINE_READ, BASELINE_WRITE, relative_to_baseline

WIDTH = 900
LABEL_W = 300  # left column of bar and lane labels
ROW_H = 24


@dataclass
class Bar:
    label: str
    value: float
    unit: str
    x: float
    y: float
    width: float
    height: float = ROW_H - 8
    baseline: bool = False
    tick_x: float | None = None  # where this path's rados bench figure lies
    ratio: float | None = None
    title: str = ""
    lines: tuple = ()  # a label wrapped onto lines, under the bar


@dataclass
class Chart:
    width: float
    height: float
    items: list = field(default_factory=list)
    ticks: list = field(default_factory=list)  # [(x, label)]
    lanes: list = field(default_factory=list)  # [(y, label)]
    plot_top: float = 0


def short(name, limit=44):
    name = name.removeprefix("test_").replace("_", " ")
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _nice_ticks(top, count=5):
    """Round axis steps (1, 2, 5 x 10^n) covering 0..top."""
    if top <= 0:
        return [0]
    raw = top / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    while magnitude > raw and magnitude > 0.01:
        magnitude /= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value <= top * 1.0001:
        ticks.append(round(value, 6))
        value += step
    return ticks


def throughput(metric_rows):
    """One bar per MB/s figure; the two rados bench bars first, each other bar with a tick where
    its baseline (writes to rados bench write, reads to seq read) lies."""
    rows = [m for m in metric_rows if m.get("unit") == "MB/s"]
    if not rows:
        return None
    base = {m["name"]: m["value"] for m in rows if m["name"] in (BASELINE_WRITE, BASELINE_READ)}
    ratios = relative_to_baseline(rows)
    ordered = sorted(rows, key=lambda m: (m["name"] not in base, m["name"] != BASELINE_WRITE, m["name"]))
    top = max(m["value"] for m in rows) * 1.12 or 1
    plot_w = WIDTH - LABEL_W - 90
    scale = plot_w / top
    chart = Chart(WIDTH, 34 + ROW_H * len(ordered) + 26, plot_top=24)
    for i, m in enumerate(ordered):
        y = chart.plot_top + i * ROW_H
        reads = any(word in m["name"] for word in ("read", "get"))
        baseline_value = base.get(BASELINE_READ if reads else BASELINE_WRITE)
        is_base = m["name"] in base
        tick = None if is_base or baseline_value is None else LABEL_W + baseline_value * scale
        chart.items.append(Bar(
            label=m["name"], value=m["value"], unit=m["unit"], x=LABEL_W, y=y, width=max(m["value"] * scale, 1),
            baseline=is_base, tick_x=tick, ratio=ratios.get(m["name"]),
            title=f"{m['name']}: {m['value']} MB/s ({function_name(m.get('check', ''))})"))
    chart.ticks = [(LABEL_W + t * scale, f"{t:g}") for t in _nice_ticks(top / 1.12)]
    return chart


@dataclass
class Segment:
    label: str
    x: float
    y: float
    width: float
    kind: str  # phase, gate, passed, failed, error, skipped, step, recovery, teardown
    title: str
    href: str = ""


def _epoch(iso):
    """results.json "started" (UTC, whole seconds): where runs before "started_at" began."""
    if not iso:
        return None
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _events(results):
    """(start, end, lane, label, kind, title, nodeid) in epoch seconds."""
    cluster = results.get("cluster") or {}
    checks = [c for c in results.get("checks", []) if c.get("started") and c.get("finished")]
    start = cluster.get("started_at") or _epoch(results.get("started"))
    if start is None:
        return []
    events = []
    t = start
    for name, seconds in (results.get("phases") or {}).items():
        if name == "bring_up_total":
            continue
        events.append((t, t + seconds, "bring-up", name, "phase", f"bring-up: {name} {seconds:g} s", None))
        t += seconds
    t = max(t, start + (cluster.get("seconds") or 0))
    gate = results.get("gate_start") or {}
    if gate:
        verdict = "passed" if gate.get("ok") else "FAILED"
        events.append((t, t + gate.get("waited_s", 0), "gates", "gate", "gate" if gate.get("ok") else "failed",
                       f"HEALTH_OK gate {verdict} after {gate.get('waited_s', 0):g} s", None))
    for c in checks:
        steps = c.get("steps") or []
        lane = "disruptive" if "disruptive" in c.get("markers", []) else "checks"
        kind = "step" if steps and c["outcome"] == "passed" else c["outcome"]
        begin = c.get("call_started") or c["started"]
        events.append((begin, c["finished"], lane, short(function_name(c["nodeid"]), 30), kind,
                       f"{c['nodeid']}: {c['outcome']} in {c['duration_s']:g} s", c["nodeid"]))
        for s in steps:
            if s.get("recovery_s"):
                end = c["finished"]
                events.append((max(begin, end - s["recovery_s"]), end, "disruptive", "", "recovery",
                               f"{s['step']}: recovery {s['recovery_s']:g} s (its length; it ends as the step "
                               f"settles)", c["nodeid"]))
    last = max((c["finished"] for c in checks), default=t)
    end_gate = results.get("gate_end") or {}
    if end_gate:
        events.append((last, last + end_gate.get("waited_s", 0), "gates", "final gate",
                       "gate" if end_gate.get("ok") else "failed",
                       f"final HEALTH_OK gate {'passed' if end_gate.get('ok') else 'FAILED'} after "
                       f"{end_gate.get('waited_s', 0):g} s", None))
        last += end_gate.get("waited_s", 0)
    if results.get("teardown_s"):
        events.append((last, last + results["teardown_s"], "bring-up", "teardown", "teardown",
                       f"teardown {results['teardown_s']:g} s", None))
    return [(s - start, e - start, *rest) for s, e, *rest in events]


def timeline(results, href=lambda nodeid: ""):
    """Lanes: bring-up (phases, teardown), gates, checks (packed so overlapping xdist checks get
    their own rows) and the disruptive steps with their recovery."""
    events = _events(results)
    if not events:
        return None
    span = max(e for _, e, *_ in events) or 1
    plot_w = WIDTH - 130 - 20
    scale = plot_w / span
    lane_rows = {"bring-up": [[]], "gates": [[]], "checks": [], "disruptive": [[]]}
    placed = []
    for start, end, lane, label, kind, title, nodeid in sorted(events, key=lambda e: (e[0], e[1])):
        rows = lane_rows[lane]
        if kind == "recovery":
            row = next(i for i, r in enumerate(rows) if any(p[6] == nodeid for p in r))
        else:
            row = next((i for i, r in enumerate(rows) if not r or r[-1][1] <= start + 0.05), None)
            if row is None:
                rows.append([])
                row = len(rows) - 1
        rows[row].append((start, end, lane, label, kind, title, nodeid))
        placed.append((lane, row, start, end, label, kind, title, nodeid))
    lane_top, y = {}, 8
    chart = Chart(WIDTH, 0)
    for lane, rows in lane_rows.items():
        if not rows or not any(rows):
            continue
        lane_top[lane] = y
        chart.lanes.append((y, lane, len(rows)))
        y += max(len(rows), 1) * 18 + 10
    chart.plot_top = y
    for lane, row, start, end, label, kind, title, nodeid in placed:
        if lane not in lane_top:
            continue
        chart.items.append(Segment(label=label, x=130 + start * scale, y=lane_top[lane] + row * 18,
                                   width=max((end - start) * scale, 2), kind=kind, title=title,
                                   href=href(nodeid) if nodeid else ""))
    chart.ticks = [(130 + t * scale, f"{t:g} s") for t in _nice_ticks(span)]
    chart.height = y + 26
    return chart


@dataclass
class Stage:
    label: str
    title: str
    osds: int | None
    capacity_gib: float | None


def shape_stages(steps):
    """The cluster's shape before the first disruptive step and after each one."""
    if not steps:
        return []
    first = steps[0]
    stages = [Stage("start", "before the disruptive steps", first.get("osds_before"), first.get("capacity_before_gib"))]
    for s in steps:
        stages.append(Stage(short(s["step"], 70), f"after {s['step']} ({s.get('outcome', '?')})",
                            s.get("osds_after"), s.get("capacity_after_gib")))
    return stages


def shape(steps):
    """Two bar rows over the same stages: OSD count and raw capacity (GiB)."""
    stages = shape_stages(steps)
    if not stages:
        return None
    col_w = min(150, (WIDTH - 130) / len(stages))
    bar_h = 70
    chart = Chart(130 + col_w * len(stages) + 10, 2 * (bar_h + 40) + 67, plot_top=bar_h)
    for row, (key, unit) in enumerate((("osds", "OSDs"), ("capacity_gib", "GiB raw"))):
        values = [getattr(s, key) for s in stages]
        top = max((v for v in values if v is not None), default=0) or 1
        base_y = 24 + row * (bar_h + 40) + bar_h
        chart.lanes.append((base_y - bar_h / 2, unit, 1))
        for i, (stage, value) in enumerate(zip(stages, values, strict=True)):
            height = 0 if value is None else max(value / top * bar_h, 1)
            chart.items.append(Bar(label=stage.label if row == 1 else "", value=value if value is not None else "?",
                                   lines=tuple(textwrap.wrap(stage.label, 24)[:3]) if row == 1 else (),
                                   unit=unit, x=130 + i * col_w + col_w * 0.2, y=base_y - height,
                                   width=col_w * 0.6, height=height, baseline=i == 0,
                                   title=f"{stage.title}: {value} {unit}"))
    return chart
