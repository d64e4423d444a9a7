"""Geometry of the report's pictures, from results.json: throughput beside the rados bench baseline,
the run's timeline, and OSDs and capacity through the disruptive steps. Only numbers here; the
SVG markup is in templates/charts.html.j2."""

import calendar
import textwrap
import time
from dataclasses import dataclass, field

from .features import function_name
from .results import BASELINE_READ, BASELINE_WRITE, relative_to_baseline

# The pictures' own coordinates; drawn at the width of the page's panel (CSS: width 100 %), so one
# unit is about one pixel on a page 1280 px wide or more.
WIDTH = 1190
ROW_H = 24
FONT_PX = 11  # svg text (templates/_style.css.j2)

# Advance widths of DejaVu Sans, the pages' first font, in em, rounded up (measured in Chromium);
# fonts that stand in for it (Arial, Helvetica) are narrower, so a label that fits here fits there.
_EM = {0.28: "'ijlIJ", 0.32: " ,.", 0.34: "/:;\\|", 0.36: "f-", 0.40: "()[]t!", 0.42: "r", 0.46: '"',
       0.50: "*_`", 0.53: "sz?", 0.56: "cL", 0.58: "Fk", 0.60: "vxy", 0.62: "PTYoae",
       0.64: "EhnuSbdgpq$0123456789{}", 0.66: "K", 0.70: "AVXZBRC", 0.75: "UNH", 0.79: "DG&OQ", 0.82: "w",
       0.84: "#+<=>^~", 0.87: "M", 0.95: "%", 0.98: "m"}
_CHAR_EM = {ch: em for em, chars in _EM.items() for ch in chars}
BOLD = 1.25  # bold glyphs are at most this much wider


def text_width(text, size=FONT_PX, bold=False):
    """How wide text is drawn, in px, at most (a character not in the table counts a whole em)."""
    return sum(_CHAR_EM.get(ch, 1.0) for ch in str(text)) * size * (BOLD if bold else 1)


def fit(text, width, size=FONT_PX):
    """text, or as much of it as fits in width px followed by "…"; "" when not even 3 characters fit."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    room = width - text_width("…", size)
    out, used = "", 0.0
    for ch in text:
        used += _CHAR_EM.get(ch, 1.0) * size
        if used > room:
            break
        out += ch
    return out.rstrip() + "…" if len(out) >= 3 else ""


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
    text: str = ""  # the figure as drawn (the value column)
    ratio_text: str = ""  # its share of the baseline as drawn (the ratio column)


@dataclass
class Chart:
    width: float
    height: float
    items: list = field(default_factory=list)
    ticks: list = field(default_factory=list)  # [(x, label)]
    lanes: list = field(default_factory=list)  # [(y, label)]
    plot_top: float = 0
    columns: list = field(default_factory=list)  # [(x, heading)]: right-aligned columns of figures
    label_x: float = 0  # where the row labels end (right-aligned)
    plot_right: float = 0


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


LABEL_MAX = 360  # px of the widest row label; a longer one is cut with "…" (its title has it whole)
GAP = 14  # px between columns


def throughput(metric_rows):
    """One bar per MB/s figure; the two rados bench bars first, each other bar with a tick where
    its baseline (writes to rados bench write, reads to seq read) lies. Three columns, so that no
    text lies on a bar or a tick: the figures' names, right-aligned; the bars; each figure and its
    share of the baseline, right-aligned at the right edge."""
    rows = [m for m in metric_rows if m.get("unit") == "MB/s"]
    if not rows:
        return None
    base = {m["name"]: m["value"] for m in rows if m["name"] in (BASELINE_WRITE, BASELINE_READ)}
    ratios = relative_to_baseline(rows)
    ordered = sorted(rows, key=lambda m: (m["name"] not in base, m["name"] != BASELINE_WRITE, m["name"]))
    values = [f"{m['value']:.1f}" for m in ordered]
    shares = ["baseline" if m["name"] in base else f"{round(ratios[m['name']] * 100)} %" if m["name"] in ratios
              else "" for m in ordered]
    share_heading, value_heading = "of rados bench", "MB/s"
    share_right = WIDTH - 4
    value_right = share_right - max(text_width(t) for t in [*shares, share_heading]) - GAP
    label_x = min(max(text_width(m["name"]) for m in ordered), LABEL_MAX) + 8
    plot_left = label_x + 8
    plot_right = value_right - max(text_width(t) for t in [*values, value_heading]) - 2 * GAP
    top = max(m["value"] for m in rows) * 1.04 or 1
    scale = (plot_right - plot_left) / top
    chart = Chart(WIDTH, 30 + ROW_H * len(ordered) + 30, plot_top=30, label_x=label_x, plot_right=plot_right,
                  columns=[(value_right, value_heading), (share_right, share_heading)])
    for i, m in enumerate(ordered):
        y = chart.plot_top + i * ROW_H
        reads = any(word in m["name"] for word in ("read", "get"))
        baseline_value = base.get(BASELINE_READ if reads else BASELINE_WRITE)
        is_base = m["name"] in base
        tick = None if is_base or baseline_value is None else plot_left + baseline_value * scale
        chart.items.append(Bar(
            label=fit(m["name"], LABEL_MAX), value=m["value"], unit=m["unit"], x=plot_left, y=y + 4,
            width=max(m["value"] * scale, 1), baseline=is_base, tick_x=tick, ratio=ratios.get(m["name"]),
            text=values[i], ratio_text=shares[i],
            title=f"{m['name']}: {m['value']} MB/s ({function_name(m.get('check', ''))})"))
    chart.ticks = [(plot_left + t * scale, f"{t:g}") for t in _nice_ticks(top / 1.04)]
    return chart


@dataclass
class Segment:
    label: str  # as drawn: cut to the room the segment has, "" when there is none
    x: float
    y: float
    width: float
    kind: str  # phase, gate, setup, passed, failed, error, skipped, step, recovery, teardown
    title: str
    href: str = ""


def _epoch(iso):
    """results.json "started" (UTC, whole seconds): where runs before "started_at" began."""
    if not iso:
        return None
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _secs(value):
    return f"{value:.0f} s" if value >= 100 else f"{value:.1f} s"


SETUP_SHOWN_S = 1.0  # a check's set-up at least this long is a bar of its own


def setup_seconds(check):
    """How long a check's set-up (its fixtures) took: pytest's setup phase ("setup_s"), or, in a
    results.json from before it was recorded, from its setup's start to its body's; None if unknown."""
    if check.get("setup_s") is not None:
        return check["setup_s"]
    if check.get("started") and check.get("call_started"):
        return round(check["call_started"] - check["started"], 3)
    return None


def _first_use(fixture):
    return "" if fixture.get("scope", "function") == "function" else " (first use)"


def setup_label(check):
    """ "minio (first use) 298 s": the fixture that took longest, and its time; "set-up 7.9 s" when
    the run did not record its fixtures."""
    fixtures = check.get("fixtures") or []
    if not fixtures:
        return f"set-up {_secs(setup_seconds(check) or 0)}"
    lead = max(fixtures, key=lambda f: f["seconds"])
    return f"{lead['name']}{_first_use(lead)} {_secs(lead['seconds'])}"


def setup_title(check):
    """What the set-up bar's tooltip says: the set-up's time, then each fixture's."""
    total = setup_seconds(check) or 0
    text = f"set-up of {check['nodeid']}: {_secs(total)}"
    fixtures = sorted(check.get("fixtures") or [], key=lambda f: -f["seconds"])
    if not fixtures:
        return text + " (this run did not record its fixtures' times)"
    parts = [f"{f['name']} ({f.get('scope', 'function')} fixture{_first_use(f) and ', first use'}) "
             f"{_secs(f['seconds'])}" for f in fixtures]
    rest = total - sum(f["seconds"] for f in fixtures)
    if rest >= 0.1:
        parts.append(f"the rest {_secs(rest)}")
    return f"{text}: " + "; ".join(parts)


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
        if c.get("call_started") and (setup_seconds(c) or 0) >= SETUP_SHOWN_S:
            events.append((c["started"], begin, lane, setup_label(c), "setup", setup_title(c), c["nodeid"]))
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


LANE_W = 130  # the lane names' column
ROW_STEP = 18  # px between a lane's rows (bars are 15 px high)


def timeline(results, href=lambda nodeid: ""):
    """Lanes: bring-up (phases, teardown), gates, checks (packed so overlapping xdist checks get
    their own rows) and the disruptive steps with their recovery. A check is one unit on one row:
    its set-up, its body, a disruptive step's recovery at its end. A segment's label is cut to the
    room it has before the next segment on its row."""
    events = _events(results)
    if not events:
        return None
    span = max(e for _, e, *_ in events) or 1
    scale = (WIDTH - LANE_W - 20) / span
    units = {}
    for event in events:
        key = (event[2], event[6]) if event[6] else (event[2], len(units), None)
        units.setdefault(key, []).append(event)
    lane_rows = {"bring-up": [[]], "gates": [[]], "checks": [], "disruptive": [[]]}
    placed = []
    for unit in sorted(units.values(), key=lambda u: (min(e[0] for e in u), max(e[1] for e in u))):
        begin, finish, lane = min(e[0] for e in unit), max(e[1] for e in unit), unit[0][2]
        rows = lane_rows[lane]
        row = next((i for i, r in enumerate(rows) if not r or r[-1] <= begin + 0.05), None)
        if row is None:
            rows.append([])
            row = len(rows) - 1
        rows[row].append(finish)
        placed += [(lane, row, start, end, *rest) for start, end, _, *rest
                   in sorted(unit, key=lambda e: (e[0], e[4] == "recovery"))]
    lane_top, y = {}, 8
    chart = Chart(WIDTH, 0)
    for lane, rows in lane_rows.items():
        if not rows or not any(rows):
            continue
        lane_top[lane] = y
        chart.lanes.append((y, lane, len(rows)))
        y += max(len(rows), 1) * ROW_STEP + 10
    chart.plot_top = y
    by_row = {}
    for lane, row, start, end, label, kind, title, nodeid in placed:
        if lane not in lane_top:
            continue
        segment = Segment(label=label, x=LANE_W + start * scale, y=lane_top[lane] + row * ROW_STEP,
                          width=max((end - start) * scale, 2), kind=kind, title=title,
                          href=href(nodeid) if nodeid else "")
        chart.items.append(segment)
        by_row.setdefault((lane, row), []).append(segment)
    for segments in by_row.values():
        segments.sort(key=lambda s: s.x)
        for here, after in zip(segments, [*segments[1:], None], strict=True):
            room = min(here.x + here.width, after.x if after else WIDTH) - here.x - 6
            here.label = fit(here.label, room) if here.label else ""
    chart.ticks = [(LANE_W + t * scale, f"{t:g} s") for t in _nice_ticks(span)]
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
    col_w = min(260, (WIDTH - LANE_W - 10) / len(stages))
    bar_w = min(col_w * 0.6, 110)
    wrap = max(10, int((col_w - 12) / (0.7 * FONT_PX)))  # characters of a stage's name on a line
    bar_h = 70
    chart = Chart(WIDTH, 2 * (bar_h + 40) + 67, plot_top=bar_h)
    for row, (key, unit) in enumerate((("osds", "OSDs"), ("capacity_gib", "GiB raw"))):
        values = [getattr(s, key) for s in stages]
        top = max((v for v in values if v is not None), default=0) or 1
        base_y = 24 + row * (bar_h + 40) + bar_h
        chart.lanes.append((base_y - bar_h / 2, unit, 1))
        for i, (stage, value) in enumerate(zip(stages, values, strict=True)):
            height = 0 if value is None else max(value / top * bar_h, 1)
            lines = tuple(fit(line, col_w - 8) for line in textwrap.wrap(stage.label, wrap)[:3]) if row == 1 else ()
            chart.items.append(Bar(label=stage.label if row == 1 else "", value=value if value is not None else "?",
                                   lines=lines, unit=unit, x=LANE_W + i * col_w + (col_w - bar_w) / 2,
                                   y=base_y - height, width=bar_w, height=height, baseline=i == 0,
                                   title=f"{stage.title}: {value} {unit}"))
    return chart
