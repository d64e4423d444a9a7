#!/usr/bin/env python3
"""Compare conformance runs: bring-up phases, time to HEALTH_OK, run time, throughput, memory.

    benchmarks/bench.py --runs 3                  run the suite 3 times (local target), print medians
    benchmarks/bench.py --runs 3 -- -m object     ... with other pytest arguments
    benchmarks/bench.py --shape 3x1 --shape 4x3   each cluster shape (nodes x OSDs per node) in turn
    benchmarks/bench.py reports/A reports/B       compare finished runs (their results.json)

A benchmark, not a test: it asserts nothing, it measures and prints.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
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


def table(columns, summary=True):
    names = []
    for col in columns.values():
        names += [n for n in col if n not in names]
    header = ["figure"] + (["median", "min", "max"] if summary else []) + list(columns)
    lines = [header]
    for name in names:
        values = [columns[c].get(name) for c in columns]
        nums = [v for v in values if isinstance(v, (int, float))]
        row = [name]
        if summary:
            row += [_fmt(statistics.median(nums)) if nums else "-", _fmt(min(nums)) if nums else "-",
                    _fmt(max(nums)) if nums else "-"]
        lines.append(row + [_fmt(v) for v in values])
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(header))]
    for r in lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def _fmt(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="*", help="report directories (reports/<run-id>) to compare; after --: "
                        "arguments for pytest")
    parser.add_argument("--runs", type=int, default=0, help="run the suite this many times first")
    parser.add_argument("--shape", action="append", default=[], metavar="NODESxOSDS",
                        help="local cluster shape to run (repeatable), e.g. 3x1 (3 hosts, 1 OSD each), 4x3")
    argv = sys.argv[1:]
    # Everything after "--" is pytest's: split it off here (argparse would take "-m" for a report).
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    pytest_args = argv[split + 1:] or ["-m", "object or health"]
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
    for label, shape_args in shapes or [(None, [])]:
        columns = {}
        with tempfile.TemporaryDirectory(prefix="cconf-bench-") as tmp:
            for i in range(1, args.runs + 1):
                what = " ".join([*shape_args, *pytest_args])
                print(f"run {i}/{args.runs}: pytest {what}", file=sys.stderr, flush=True)
                col, rc = run_once([*shape_args, *pytest_args], tmp)
                columns[f"run {i}" + ("" if rc == 0 else f" (exit {rc})")] = col
        if columns:
            if label:
                print(f"\n== {label}")
            table(columns, summary=len(columns) > 1)

if __name__ == "__main__":
    main()
