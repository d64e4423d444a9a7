#!/usr/bin/env python3
"""Compare conformance runs: bring-up phases, time to HEALTH_OK, run time, each check, throughput, memory.

    benchmarks/bench.py --runs 3                  run the suite 3 times (local target), print medians
    benchmarks/bench.py --runs 3 -- -m object     ... with other pytest arguments
    benchmarks/bench.py --shape 3x1 --shape 4x3   each cluster shape (nodes x OSDs per node) in turn
    benchmarks/bench.py reports/A reports/B       compare finished runs (their results.json)
    benchmarks/bench.py --compare reports/bench-A reports/bench-B
                                                  two benchmarks (e.g. two commits) side by side, as ratios

A benchmark writes its runs' reports, bench.json (every figure of every run) and bench.svg (each
figure's median with its min-max range) to --out (default reports/bench-<commit>-<time>/).
--compare prints, per shape, each figure's median in A and in B and the ratio B/A, and writes
compare.svg beside B's bench.json (or to --out).

A benchmark, not a test: it asserts nothing, it measures and prints.
"""

import argparse
import html
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def figures(results, wall_s=None):
    """The numbers worth comparing from one results.json."""
    out = {"time to HEALTH_OK [s]": results.get("time_to_health_ok_s")}
    for phase, seconds in (results.get("phases") or {}).items():
        out[f"bring-up {phase} [s]"] = seconds
    out["run, pytest [s]"] = results.get("duration_s")
    if wall_s is not None:
        out["run, wall clock [s]"] = round(wall_s, 1)
    out["teardown [s]"] = results.get("teardown_s")
    rss = (results.get("resource_usage") or {}).get("daemon_rss_mib") or {}
    out["daemons' RSS [MiB]"] = rss.get("total")
    for m in results.get("metrics") or []:
        out[f"{m['name']} [{m['unit']}]"] = m["value"]
    for name, ratio in (results.get("relative_to_rados_bench") or {}).items():
        out[f"{name} / rados bench"] = ratio
    checks = results.get("checks") or []
    for c in checks:  # where the time goes, check by check
        out[f"check {c['nodeid'].split('::')[-1]} [s]"] = c.get("duration_s")
    tools = {}  # Ceph's tools the checks ran, summed over all of them (results.json's tool_calls)
    for c in checks:
        for tool, used in (c.get("tool_calls") or {}).items():
            n, s = tools.get(tool, (0, 0.0))
            tools[tool] = (n + used["calls"], s + used["seconds"])
    for tool, (n, s) in sorted(tools.items()):
        out[f"{tool} calls, all checks [count]"] = n
        out[f"{tool} calls, all checks [s]"] = round(s, 1)
    out["checks passed"] = sum(c["outcome"] == "passed" for c in checks)
    out["checks not passed"] = sum(c["outcome"] != "passed" for c in checks)
    return out


def run_once(pytest_args, report_dir):
    cmd = [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-q", "-p", "no:cacheprovider",
           f"--report-dir={report_dir}", *pytest_args]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - t0
    path = Path(report_dir) / "latest" / "results.json"
    if not path.exists():
        tail = proc.stdout[-3000:] + proc.stderr[-3000:]
        sys.exit(f"run failed before writing results (exit {proc.returncode}):\n{tail}")
    return figures(json.loads(path.read_text()), wall), proc.returncode


def _names(columns):
    names = []
    for col in columns.values():
        names += [n for n in col if n not in names]
    return names


def summarize(columns):
    """{figure: (median, min, max)} over the runs (columns) that have it as a number."""
    out = {}
    for name in _names(columns):
        nums = [v for v in (c.get(name) for c in columns.values()) if isinstance(v, (int, float))]
        if nums:
            out[name] = (statistics.median(nums), min(nums), max(nums))
    return out


def _print(lines):
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(lines[0]))]
    for r in lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def table(columns, summary=True):
    header = ["figure"] + (["median", "min", "max"] if summary else []) + list(columns)
    lines = [header]
    stats = summarize(columns)
    for name in _names(columns):
        row = [name]
        if summary:
            row += [_fmt(v) for v in stats.get(name, (None, None, None))]
        lines.append(row + [_fmt(columns[c].get(name)) for c in columns])
    _print(lines)


def _fmt(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if isinstance(v, float) else str(v)


# --- SVG: one horizontal bar per figure (its median), with the min-max range as a whisker ---------

SVG_W, LABEL_W, ROW, NUM_W = 1000, 380, 22, 190


def _charted(names):
    """The time figures (seconds) and throughputs: what a reader compares at a glance."""
    return [n for n in names if n.endswith("[s]") or n.endswith("[MB/s]")]


def svg_chart(title, groups):
    """groups: [(label, colour, {figure: (median, min, max)})], drawn side by side per figure,
    each unit (s, MB/s) on its own scale. Returns the SVG text."""
    names = []
    for _, _, stats in groups:
        names += [n for n in _charted(stats) if n not in names]
    per = len(groups)
    height = 60 + len(names) * ROW * per + 10 * len(names) + 30
    top = {}
    for n in names:
        unit = n.rsplit("[", 1)[-1]
        top[unit] = max([top.get(unit, 0)] + [s[n][2] for _, _, s in groups if n in s])
    plot_w = SVG_W - LABEL_W - NUM_W
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{height}" '
           f'viewBox="0 0 {SVG_W} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{SVG_W}" height="{height}" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, colour, _) in enumerate(groups):
        out.append(f'<rect x="{10 + i * 260}" y="34" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{28 + i * 260}" y="45">{html.escape(label)}</text>')
    y = 60
    for n in names:
        unit = n.rsplit("[", 1)[-1]
        scale = plot_w / top[unit] if top[unit] else 0
        out.append(f'<text x="{LABEL_W - 8}" y="{y + ROW * per / 2 + 4}" text-anchor="end">'
                   f'{html.escape(n if len(n) < 58 else n[:57] + "…")}</text>')
        first = groups[0][2].get(n)
        for k, (_, colour, stats) in enumerate(groups):
            if n in stats:
                med, lo, hi = stats[n]
                out.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{med * scale:.1f}" height="{ROW - 6}" '
                           f'fill="{colour}"><title>{html.escape(n)}: median {med:.2f}, min {lo:.2f}, '
                           f'max {hi:.2f}</title></rect>')
                if hi > lo:
                    mid = y + ROW / 2
                    out.append(f'<line x1="{LABEL_W + lo * scale:.1f}" x2="{LABEL_W + hi * scale:.1f}" y1="{mid}" '
                               f'y2="{mid}" stroke="black"/>'
                               f'<line x1="{LABEL_W + lo * scale:.1f}" x2="{LABEL_W + lo * scale:.1f}" '
                               f'y1="{mid - 4}" y2="{mid + 4}" stroke="black"/>'
                               f'<line x1="{LABEL_W + hi * scale:.1f}" x2="{LABEL_W + hi * scale:.1f}" '
                               f'y1="{mid - 4}" y2="{mid + 4}" stroke="black"/>')
                ratio = f" = {med / first[0]:.2f} x A" if k and first and first[0] else ""
                out.append(f'<text x="{LABEL_W + plot_w + 6}" y="{y + ROW / 2 + 4}">{med:.1f} '
                           f'({lo:.1f}-{hi:.1f}){ratio}</text>')
            y += ROW
        y += 10
    out.append(f'<text x="10" y="{height - 10}" fill="#555">bars: median; whiskers: min to max; '
               f'seconds and MB/s each on their own scale</text></svg>')
    return "\n".join(out) + "\n"


COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759")


# --- a benchmark on disk, and two of them compared --------------------------------------------------


def _commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                                 capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if changed else "")


def load_bench(path):
    """{shape label: {run name: figures}} of a benchmark directory (its bench.json), or of report
    directories found under path (each results.json one run, all under one label)."""
    path = Path(path)
    if (path / "bench.json").exists():
        data = json.loads((path / "bench.json").read_text())
        return data.get("commit", path.name), data["shapes"]
    found = sorted(p for p in path.rglob("results.json") if "latest" not in p.parts)
    if not found:
        sys.exit(f"{path}: no bench.json and no results.json under it; give a benchmark's --out directory "
                 "or report directories")
    return path.name, {"runs": {p.parent.name: figures(json.loads(p.read_text())) for p in found}}


def compare(a_path, b_path, out=None):
    a_label, a = load_bench(a_path)
    b_label, b = load_bench(b_path)
    svgs = []
    # The shapes both ran; two benchmarks of different shapes: their first ones, side by side.
    pairs = [(s, s) for s in a if s in b] or [(next(iter(a)), next(iter(b)))]
    for shape_a, shape_b in pairs:
        sa, sb = a[shape_a], b[shape_b]
        label = shape_a if shape_a == shape_b else f"{shape_a} / {shape_b}"
        stats_a, stats_b = summarize(sa), summarize(sb)
        lines = [["figure", f"A median ({a_label}, {len(sa)} runs)", f"B median ({b_label}, {len(sb)} runs)",
                  "B / A", "A min-max", "B min-max"]]
        for name in [n for n in stats_a if n in stats_b]:
            ma, mb = stats_a[name][0], stats_b[name][0]
            ratio = f"{mb / ma:.2f}" if ma else "-"
            lines.append([name, _fmt(float(ma)), _fmt(float(mb)), ratio,
                          f"{_fmt(float(stats_a[name][1]))}-{_fmt(float(stats_a[name][2]))}",
                          f"{_fmt(float(stats_b[name][1]))}-{_fmt(float(stats_b[name][2]))}"])
        print(f"\n== {label}: A = {a_path}, B = {b_path}")
        _print(lines)
        svgs.append(svg_chart(f"{label}: A {a_label} vs B {b_label}",
                              [(f"A: {a_label}", COLOURS[0], stats_a), (f"B: {b_label}", COLOURS[1], stats_b)]))
    target = Path(out) if out else Path(b_path)
    if target.is_dir() or out:
        target.mkdir(parents=True, exist_ok=True)
        for i, svg in enumerate(svgs):
            path = target / ("compare.svg" if i == 0 else f"compare-{i + 1}.svg")
            path.write_text(svg)
            print(f"chart: {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="*", help="report directories (reports/<run-id>) to compare; after --: "
                        "arguments for pytest")
    parser.add_argument("--runs", type=int, default=0, help="run the suite this many times first")
    parser.add_argument("--shape", action="append", default=[], metavar="NODESxOSDS",
                        help="local cluster shape to run (repeatable), e.g. 3x1 (3 hosts, 1 OSD each), 4x3")
    parser.add_argument("--out", help="where the benchmark writes its runs, bench.json and bench.svg "
                        "(default reports/bench-<commit>-<time>); with --compare, where compare.svg goes")
    parser.add_argument("--label", help="what the benchmark measured, in its bench.json and charts (default: the "
                        "commit, with '+changes' when the work tree differs from it)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"),
                        help="two benchmark directories (or folders of report directories): medians and B/A")
    argv = sys.argv[1:]
    # Everything after "--" is pytest's: split it off here (argparse would take "-m" for a report).
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    pytest_args = argv[split + 1:] or ["-m", "object or health"]
    if args.compare:
        for path in args.compare:
            if not Path(path).is_dir():
                parser.error(f"--compare {path}: no such directory; give two benchmarks' --out directories")
        compare(*args.compare, out=args.out)
        return
    if not args.runs and (args.shape or not args.reports):
        args.runs = 3

    shapes = []
    for shape in args.shape:
        try:
            nodes, osds = (int(n) for n in shape.lower().split("x"))
        except ValueError:
            parser.error(f"--shape {shape}: write NODESxOSDS, e.g. 4x3")
        shapes.append((f"{nodes} nodes x {osds} OSDs", ["--nodes", str(nodes), "--osds-per-node", str(osds)]))

    columns = {}
    for report in args.reports:
        columns[Path(report).name] = figures(json.loads((Path(report) / "results.json").read_text()))
    if columns:
        table(columns, summary=len(columns) > 1)
    if not args.runs:
        return
    commit = args.label or _commit()
    out = Path(args.out) if args.out else REPO / "reports" / f"bench-{commit}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    bench = {"commit": commit, "pytest_args": pytest_args, "shapes": {}}
    groups = []
    for label, shape_args in shapes or [("default shape", [])]:
        columns = {}
        report_dir = out / label.replace(" ", "")
        for i in range(1, args.runs + 1):
            what = " ".join([*shape_args, *pytest_args])
            print(f"run {i}/{args.runs}: pytest {what}", file=sys.stderr, flush=True)
            col, rc = run_once([*shape_args, *pytest_args], report_dir)
            columns[f"run {i}" + ("" if rc == 0 else f" (exit {rc})")] = col
        print(f"\n== {label}")
        table(columns, summary=len(columns) > 1)
        bench["shapes"][label] = columns
        groups.append((label, COLOURS[len(groups) % len(COLOURS)], summarize(columns)))
        (out / "bench.json").write_text(json.dumps(bench, indent=1))
    (out / "bench.svg").write_text(svg_chart(f"commit {commit}: median, min and max of {args.runs} runs", groups))
    print(f"\nbenchmark: {out}/bench.json, chart: {out}/bench.svg")


if __name__ == "__main__":
    main()
