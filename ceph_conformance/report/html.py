"""The conformance summary at the top of the pytest-html page."""

from html import escape

from ..payload import GiB


def _table(rows):
    cells = "".join(f"<tr><th style='text-align:left'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                    for k, v in rows)
    return f"<table class='conformance'>{cells}</table>"


def _ratio(value):
    return "" if value is None else f"{value * 100:.0f} %"


def summary_html(results):
    """HTML fragments for pytest_html_results_summary, from the results.json payload."""
    cluster = results.get("cluster") or {}
    facts = cluster.get("facts") or {}
    gate_start = results.get("gate_start") or {}
    gate_end = results.get("gate_end") or {}

    def verdict(g):
        if not g:
            return "not run"
        return ("passed" if g.get("ok") else "FAILED") + f" after {g.get('waited_s', 0):.0f}s" + (
            "" if g.get("ok") else ": " + "; ".join(g.get("problems", [])))

    tth = results.get("time_to_health_ok_s")
    rss = (results.get("resource_usage") or {}).get("daemon_rss_mib")
    rows = [
        ("run", results["run_id"]),
        ("target", results["target"]),
        ("Ceph", ", ".join(facts.get("ceph_versions", [])) or "unknown"),
        ("OSDs", facts.get("osd_count", "?")),
        ("mons", facts.get("mon_count", "?")),
        ("pool size/min_size", ", ".join(f"{s} ({n} pools)" for s, n in (facts.get("pool_sizes") or {}).items())
         or "?"),
        ("raw capacity", f"{facts.get('raw_bytes', 0) / GiB:.1f} GiB" if facts.get("raw_bytes") else "?"),
        ("time to HEALTH_OK", f"{tth} s" if tth is not None else "not reached"),
        ("bring-up phases", ", ".join(f"{k} {v}s" for k, v in (results.get("phases") or {}).items()) or "-"),
        ("gate at start", verdict(gate_start)),
        ("gate at end", verdict(gate_end)),
        ("muted health codes (reviewed)", ", ".join(results.get("muted_health", [])) or "none"),
        ("muted codes raised", ", ".join(sorted(set(gate_start.get("muted_seen", []) + gate_end.get("muted_seen", []))))
         or "none"),
        ("daemons' resident memory", f"{rss['total']} MiB" if rss else "-"),
        ("teardown", f"{results.get('teardown_s')} s" if results.get("teardown_s") is not None else "-"),
    ]
    parts = ["<h2>Conformance summary</h2>", _table(rows)]
    metric_rows = results.get("metrics") or []
    ratios = results.get("relative_to_rados_bench") or {}
    if metric_rows:
        body = "".join(
            f"<tr><td>{escape(m['check'])}</td><td>{escape(m['name'])}</td><td>{m['value']}</td>"
            f"<td>{escape(m['unit'])}</td><td>{_ratio(ratios.get(m['name']))}</td></tr>" for m in metric_rows)
        parts.append("<h3>Measured</h3><table><tr><th>check</th><th>figure</th><th>value</th><th>unit</th>"
                     "<th>of rados bench</th></tr>" + body + "</table>")
    steps = results.get("disruptive_steps") or []
    if steps:
        def cell(value):
            return "-" if value is None else escape(str(value))

        body = "".join(
            f"<tr><td>{escape(s['step'])}</td><td>{escape(s['outcome'])}</td>"
            f"<td>{cell(s.get('osds_before'))} &rarr; {cell(s.get('osds_after'))}</td>"
            f"<td>{cell(s.get('capacity_before_gib'))} &rarr; {cell(s.get('capacity_after_gib'))}</td>"
            f"<td>{cell(s.get('recovery_s'))}</td><td>{escape(s.get('ledger', ''))}</td>"
            f"<td>{escape('; '.join(s.get('notes', [])))}</td></tr>" for s in steps)
        parts.append("<h3>Disruptive steps</h3><table><tr><th>step</th><th>outcome</th><th>OSDs</th>"
                     "<th>raw capacity (GiB)</th><th>recovery (s)</th><th>ledger</th><th>notes</th></tr>"
                     + body + "</table>")
    if cluster and not cluster.get("ok"):
        parts.append(f"<p><b>Bring-up failed:</b> {escape(cluster.get('error', ''))}</p>")
    return parts
