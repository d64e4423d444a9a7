"""The run's own page, reports/<run-id>/report.html, rendered from results.json with Jinja2
templates (package data): the verdict matrix first, then the cluster, the pictures, and every
check's details. One self-contained file: styles inline, charts as inline SVG, no script."""

from functools import cache

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

from ..payload import GiB
from ..secrets import scrub
from . import charts, features
from .product import axes

AREA_ORDER = list(features.feature_map().areas)


@cache
def environment():
    env = Environment(loader=PackageLoader("ceph_conformance.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=ChainableUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["anchor"] = features.anchor
    env.filters["short"] = charts.short
    env.filters["seconds"] = seconds
    env.filters["first_line"] = features.first_line
    env.globals["function_name"] = features.function_name
    return env


def seconds(value):
    if not isinstance(value, int | float):
        return "-"
    return f"{value:.0f} s" if value >= 100 else f"{value:.1f} s"


def gate_verdict(gate):
    if not gate:
        return {"ok": None, "text": "not run"}
    text = ("passed" if gate.get("ok") else "FAILED") + f" after {gate.get('waited_s', 0):.0f} s"
    return {"ok": bool(gate.get("ok")), "text": text, "problems": [] if gate.get("ok") else gate.get("problems", [])}


def cluster_rows(results):
    """(label, value) of the cluster table."""
    cluster = results.get("cluster") or {}
    facts = cluster.get("facts") or {}
    product = results.get("product") or {}
    rss = (results.get("resource_usage") or {}).get("daemon_rss_mib")
    rows = [("target", results.get("target", "?")),
            ("Ceph", ", ".join(facts.get("ceph_versions", [])) or "unknown")]
    for key, label in (("rook_version", "Rook"), ("kubernetes_version", "Kubernetes"), ("ceph_image", "Ceph image"),
                       ("kind_node_image", "Kubernetes node image")):
        if product.get(key):
            rows.append((label, product[key]))
    rows += [
        ("OSDs", facts.get("osd_count", "?")),
        ("mons", facts.get("mon_count", "?")),
        ("pool size/min_size",
         ", ".join(f"{s} ({n} pools)" for s, n in (facts.get("pool_sizes") or {}).items()) or "?"),
        ("raw capacity", f"{facts['raw_bytes'] / GiB:.1f} GiB" if facts.get("raw_bytes") else "?"),
        ("placement groups", facts.get("pgs", "?")),
        ("daemons' resident memory", f"{rss['total']} MiB" if rss else "-"),
        ("muted health codes (reviewed)", ", ".join(results.get("muted_health", [])) or "none"),
    ]
    options = [f"{k}: {v}" for k, v in axes(results)[2:] if k.startswith("-")]
    if options:
        rows.append(("options", "; ".join(options)))
    return rows


def tallies(metrics):
    """A figure every check keeps (S3 retries, unit "count"): [(name, total, checks)], one line each."""
    out = {}
    for m in metrics:
        if m.get("unit") == "count":
            total, n = out.get(m["name"], (0, 0))
            out[m["name"]] = (total + m["value"], n + 1)
    return [(name, f"{total:g}", n) for name, (total, n) in out.items()]


def setup_text(check):
    """ "set-up 300 s: minio (first use) 298 s" for a check whose set-up took a while, else ""."""
    took = charts.setup_seconds(check)
    if took is None or took < charts.SETUP_SHOWN_S:
        return ""
    return f"set-up {seconds(took)}" + (f": {charts.setup_label(check)}" if check.get("fixtures") else "")


def ordered_checks(results):
    """Checks in matrix order (area, then the order they ran), each with its place."""
    fmap = features.feature_map()
    out = []
    for check in results.get("checks", []):
        area, capability = fmap.place(check["nodeid"])
        out.append({**check, "area": area, "capability": capability, "group": fmap.group(check["nodeid"]),
                    "area_title": fmap.areas.get(area, area), "setup": setup_text(check)})
    rank = {a: i for i, a in enumerate(AREA_ORDER)}
    return sorted(out, key=lambda c: (rank.get(c["area"], len(rank)), c.get("started") or 0))


def figure(value):
    """A measured figure as the table shows it: 836.4, 16312.9, 16.7, 7.2, 0.253."""
    if not isinstance(value, int | float):
        return str(value)
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3g}"


def measured(results):
    """The "Measured" table: one row per check that measured something, in the verdict matrix's
    order (its area's row, then its capability's column, then the order the checks ran), each with
    its figures in the order it recorded them and, for a throughput, its share of rados bench."""
    fmap = features.feature_map()
    ratios = results.get("relative_to_rados_bench") or {}
    by_check = {}
    for m in results.get("metrics") or []:
        if m.get("unit") != "count":
            by_check.setdefault(m.get("check", ""), []).append(
                {**m, "text": figure(m["value"]), "ratio": ratios.get(m["name"]) if m.get("unit") == "MB/s" else None})
    areas = {a: i for i, a in enumerate(AREA_ORDER)}
    columns = {c: i for i, c in enumerate(fmap.capabilities)}
    started = {c["nodeid"]: c.get("started") or 0 for c in results.get("checks", [])}
    rows = []
    for nodeid, figures in by_check.items():
        area, capability = fmap.place(nodeid)
        rows.append({"nodeid": nodeid, "area": area, "area_title": fmap.areas.get(area, area),
                     "capability": capability, "figures": figures,
                     "key": (areas.get(area, len(areas)), columns.get(capability, len(columns)),
                             started.get(nodeid, 0), nodeid)})
    return sorted(rows, key=lambda r: r["key"])


def context(results, pytest_html=None):
    metrics = results.get("metrics") or []
    matrix = features.build(results.get("checks", []))
    counts = results.get("counts") or {}
    cluster = results.get("cluster") or {}
    return {
        "r": results,
        "title": f"Ceph conformance: {results.get('target', '?')} run {results.get('run_id', '?')}",
        "matrix": matrix,
        "grouped": [(area, features.feature_map().areas.get(area, area), grouped)
                    for area in features.GROUPED_AREAS
                    if (grouped := features.groups(results.get("checks", []), area))],
        "counts": counts,
        "verdict": _verdict(results, counts),
        "cluster_rows": cluster_rows(results),
        "bring_up_error": None if cluster.get("ok", True) else cluster.get("error", ""),
        "gates": [("at start", gate_verdict(results.get("gate_start"))),
                  ("at the end", gate_verdict(results.get("gate_end")))],
        "phases": [(k, v) for k, v in (results.get("phases") or {}).items() if k != "bring_up_total"],
        "throughput": charts.throughput(metrics),
        "timeline": charts.timeline(results, href=lambda nodeid: "#" + features.anchor(nodeid)),
        "shape": charts.shape(results.get("disruptive_steps") or []),
        "measured": (rows := measured(results)),
        # The figures' names as one column across the table: as wide as the longest (in ch, the
        # width of a digit; a name's letters are no wider on average).
        "figure_name_ch": max((len(m["name"]) for r in rows for m in r["figures"]), default=0),
        "tallies": tallies(metrics),
        "ratios": results.get("relative_to_rados_bench") or {},
        "fio": results.get("fio"),
        "steps": results.get("disruptive_steps") or [],
        "checks": ordered_checks(results),
        "pytest_html": pytest_html,
    }


def _verdict(results, counts):
    bad = counts.get("failed", 0) + counts.get("error", 0)
    if not (results.get("cluster") or {}).get("ok", False):
        return {"ok": False, "text": "the cluster did not come up"}
    unhealthy = bool(results.get("gate_end")) and not results["gate_end"].get("ok")
    if bad or unhealthy or results.get("exit_status", 0) not in (0,):
        what = (f"not conformant: {bad} of {sum(counts.values())} checks failed"
                + (f" ({counts['error']} in set-up or cleanup)" if counts.get("error") else "")) if bad \
            else "not conformant" if unhealthy else f"the run failed (pytest exit status {results.get('exit_status')})"
        if unhealthy:
            what += ": the run left the cluster unhealthy"
        return {"ok": False, "text": what}
    return {"ok": True, "text": f"conformant: {counts.get('passed', 0)} checks passed"
            + (f", {counts['skipped']} skipped" if counts.get("skipped") else "")
            + (f", {counts['xfailed']} xfailed (known defects of the version under test)"
               if counts.get("xfailed") else "")}


def render_run_page(results, pytest_html=None):
    """The page as text; secrets masked once more on the way out."""
    return scrub(environment().get_template("run.html.j2").render(**context(results, pytest_html)))


def pytest_html_prefix(results):
    """What pytest-html's page shows above its list: where the conformance report is."""
    return scrub(environment().get_template("pytest_html_prefix.html.j2").render(r=results))


def write_run_page(path, results, pytest_html=None):
    path.write_text(render_run_page(results, pytest_html))
    return path
