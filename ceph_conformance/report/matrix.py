"""Several runs on one page (`python -m ceph_conformance matrix REPORT_DIR... -o OUT.html`): a column per
run labelled by its axes, a row per check grouped by area, headline figures on top, and the checks
whose outcome differs between runs flagged. Runs come from report folders, bundles, or folders
holding either (a CI job's downloaded artifacts)."""

import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..secrets import scrub
from . import features
from .page import environment, seconds, tallies
from .product import axes
from .results import BASELINE_READ, BASELINE_WRITE


class RunSourceError(ValueError):
    """A path that holds no run: one line saying what is wrong and what to give instead."""


@dataclass
class RunColumn:
    results: dict
    source: str
    report_href: str | None = None  # report.html of a run folder, relative to the page
    axes: list = field(default_factory=list)

    @property
    def run_id(self):
        return self.results.get("run_id", "?")


def _from_bundle(path):
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = next((m for m in tar.getmembers() if m.isfile() and m.name.count("/") == 1
                           and m.name.endswith("/results.json")), None)
            if member is None:
                raise RunSourceError(f"{path}: a tar.gz without <run-id>/results.json; give a bundle the suite wrote "
                                     "(reports/<run-id>.tar.gz)")
            return json.load(tar.extractfile(member))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RunSourceError(f"{path}: not a readable .tar.gz bundle ({exc}); give reports/<run-id>.tar.gz") from None


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise RunSourceError(f"{path}: not a results.json the suite wrote ({exc})") from None


def load_runs(paths, out_dir):
    """RunColumns from run folders, bundles, or folders holding them; each run once, oldest first."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_file() and path.name.endswith(".tar.gz"):
            found.append(RunColumn(_from_bundle(path), str(path)))
        elif path.is_file() and path.name == "results.json":
            found.append(_folder_run(path.parent, out_dir))
        elif path.is_dir() and (path / "results.json").is_file():
            found.append(_folder_run(path, out_dir))
        elif path.is_dir():
            inside = sorted(p for p in path.rglob("results.json") if p.parent.name != "latest")
            bundles = sorted(path.rglob("*.tar.gz"))
            if not inside and not bundles:
                raise RunSourceError(f"{path}: no run here (no results.json and no .tar.gz bundle below it); give "
                                     "report folders (reports/<run-id>) or bundles (reports/<run-id>.tar.gz)")
            found += [_folder_run(p.parent, out_dir) for p in inside]
            found += [RunColumn(_from_bundle(b), str(b)) for b in bundles]
        else:
            raise RunSourceError(f"{path}: no such report folder or bundle; give reports/<run-id> or "
                                 "reports/<run-id>.tar.gz")
    runs, seen = [], set()
    for run in found:  # a folder and its own bundle are one run
        if run.run_id not in seen:
            seen.add(run.run_id)
            runs.append(run)
    runs.sort(key=lambda r: r.results.get("started") or "")
    for run in runs:
        run.axes = axes(run.results)
    return runs


def _folder_run(folder, out_dir):
    results = _read_json(folder / "results.json")
    href = None
    if (folder / "report.html").is_file():
        href = os.path.relpath(folder / "report.html", out_dir)
    return RunColumn(results, str(folder), href)


@dataclass
class Row:
    nodeid: str
    area: str
    capability: str
    cells: list  # per run: the check's entry or None
    differs: bool = False
    missing: bool = False  # not in every run


def _figures(check):
    """A cell's key figures: its measurements, a tally only when it is not zero."""
    out = []
    for m in check.get("metrics") or []:
        if m.get("unit") == "count" and not m.get("value"):
            continue
        out.append(f"{m['name']} {m['value']:g} {m['unit']}")
    return out


def rows(runs):
    fmap = features.feature_map()
    order, by_id = [], {}
    for run in runs:
        for check in run.results.get("checks", []):
            if check["nodeid"] not in by_id:
                by_id[check["nodeid"]] = [None] * len(runs)
                order.append(check["nodeid"])
    for i, run in enumerate(runs):
        for check in run.results.get("checks", []):
            by_id[check["nodeid"]][i] = {**check, "figures": _figures(check)}
    rank = {a: i for i, a in enumerate(fmap.areas)}
    out = []
    for nodeid in order:
        area, capability = fmap.place(nodeid)
        cells = by_id[nodeid]
        outcomes = {c["outcome"] for c in cells if c}
        out.append(Row(nodeid, area, capability, cells, differs=len(outcomes) > 1, missing=None in cells))
    position = {nodeid: i for i, nodeid in enumerate(order)}
    out.sort(key=lambda r: (rank.get(r.area, len(rank)), position[r.nodeid]))
    return out


def _metric(results, name):
    return next((m["value"] for m in results.get("metrics") or [] if m["name"] == name), None)


def headlines(runs):
    """[(label, [value text per run])]: time to HEALTH_OK, the run's size and pace, each throughput."""
    def per_run(fn):
        return [fn(run.results) for run in runs]

    lines = [
        ("verdict", per_run(_verdict_text)),
        ("time to HEALTH_OK", per_run(lambda r: seconds(r.get("time_to_health_ok_s"))
                                      if r.get("time_to_health_ok_s") is not None else "not reached")),
        ("bring-up", per_run(lambda r: seconds((r.get("phases") or {}).get("bring_up_total")))),
        ("OSDs, raw capacity", per_run(_shape_text)),
        ("run took", per_run(lambda r: seconds(r.get("duration_s")))),
    ]
    names = []
    for run in runs:
        for m in run.results.get("metrics") or []:
            if m.get("unit") in ("MB/s", "s") and m["name"] not in names:
                names.append(m["name"])
    names.sort(key=lambda n: (n not in (BASELINE_WRITE, BASELINE_READ), n != BASELINE_WRITE,
                              next(m["unit"] for r in runs for m in r.results.get("metrics") or [] if m["name"] == n)
                              == "s", n))
    for name in names:
        unit = next(m["unit"] for r in runs for m in r.results.get("metrics") or [] if m["name"] == name)
        lines.append((f"{name} ({unit})", [_fmt(_metric(run.results, name)) for run in runs]))
    for name, _, _ in {t[0]: t for run in runs for t in tallies(run.results.get("metrics") or [])}.values():
        lines.append((f"{name} (in all)", [next((total for n, total, _ in tallies(run.results.get("metrics") or [])
                                                  if n == name), "-") for run in runs]))
    return lines


def _fmt(value):
    return "-" if value is None else f"{value:g}"


def _verdict_text(results):
    counts = results.get("counts") or {}
    parts = [f"{counts[o]} {o}" for o in ("passed", "failed", "error", "skipped", "xfailed") if counts.get(o)]
    if not (results.get("cluster") or {}).get("ok", False):
        parts.insert(0, "no cluster")
    if results.get("gate_end") and not results["gate_end"].get("ok"):
        parts.append("left unhealthy")
    return ", ".join(parts) or "nothing ran"


def _shape_text(results):
    facts = (results.get("cluster") or {}).get("facts") or {}
    if not facts.get("osd_count"):
        return "-"
    return f"{facts['osd_count']} OSDs, {facts.get('raw_bytes', 0) / 1024**3:.0f} GiB"


def _ok(results):
    counts = results.get("counts") or {}
    gate_end = results.get("gate_end")
    return ((results.get("cluster") or {}).get("ok", False) and not counts.get("failed") and not counts.get("error")
            and not (gate_end and not gate_end.get("ok")))


def axis_rows(runs):
    """[(axis, [value per run], differs)]: every axis any run has, the ones that vary marked."""
    names = []
    for run in runs:
        for name, _ in run.axes:
            if name not in names:
                names.append(name)
    out = []
    for name in names:
        # An option a run's descriptor does not name was left at its default; a run without a
        # descriptor (written before it existed) cannot say.
        values = [dict(run.axes).get(name, ("default" if run.results.get("product") else "?")
                                     if name.startswith("-") else "-") for run in runs]
        out.append((name, values, len(set(values)) > 1))
    return out


def area_verdicts(runs, all_rows):
    """{area: [worst outcome per run]} for the area header rows."""
    out = {}
    for row in all_rows:
        per = out.setdefault(row.area, [[] for _ in runs])
        for i, cell in enumerate(row.cells):
            if cell:
                per[i].append(cell["outcome"])
    return {area: [features.worst(o) for o in per] for area, per in out.items()}


def render(runs):
    fmap = features.feature_map()
    all_rows = rows(runs)
    context = {
        "runs": runs,
        "ok": [_ok(r.results) for r in runs],
        "axis_rows": axis_rows(runs),
        "headlines": headlines(runs),
        "rows": all_rows,
        "areas": fmap.areas,
        "area_verdicts": area_verdicts(runs, all_rows),
        "differing": sum(1 for r in all_rows if r.differs),
    }
    return scrub(environment().get_template("matrix.html.j2").render(**context))


def write_matrix(paths, out):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    runs = load_runs(paths, out.parent.resolve())
    if not runs:
        raise RunSourceError("no runs given: name report folders or bundles")
    out.write_text(render(runs))
    return runs
