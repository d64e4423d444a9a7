"""A real run's report as a person opens it: the suite run briefly on the local target (-m health),
its report.html in headless Chromium, its bundle, and the matrix page made from that bundle."""

import subprocess
import sys
import tarfile

from tests.browser import box, open_page  # noqa: F401 - helpers (its fixtures: tests/conftest.py)

from .harness import RUN_ROOT, leftovers, run_suite

GREEN = "rgb(218, 251, 225)"


def test_a_real_runs_report_bundle_and_matrix_open_in_a_browser(tmp_path, browser):  # noqa: F811
    run = run_suite(tmp_path / "reports", "-m", "health", timeout=600)
    assert run.returncode == 0, run
    run_id = run.results["run_id"]
    p = open_page(browser, run.report_dir / "report.html", tmp_path, "integration-run-page")
    assert p.locator("#verdict-banner").inner_text() == "conformant: 5 checks passed"
    cell = p.locator('td.cell[data-area="health"][data-capability="availability"]')
    assert cell.get_attribute("data-outcome") == "passed" and "5 of 5 checks" in cell.inner_text()
    assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
    assert p.locator('tr.not-run td[data-area="block"]').count() == 1
    # The timeline: the six bring-up phases of this cluster, both gates, the five checks, teardown.
    assert box(p.locator("svg.timeline"))["height"] > 50
    assert p.locator("svg.timeline rect.seg.phase").count() == 6
    assert p.locator("svg.timeline rect.seg.gate").count() == 2
    assert p.locator("svg.timeline rect.seg.passed").count() == 5
    assert p.locator("svg.timeline rect.seg.teardown").count() == 1
    ceph = p.locator("#cluster-table tr", has=p.locator("th", has_text="Ceph")).locator("td").inner_text()
    host_ceph = subprocess.run(["ceph", "--version"], capture_output=True, text=True, timeout=60).stdout.split()
    assert ceph.startswith(host_ceph[2]), (ceph, host_ceph)  # "ceph version 16.2.15 (...) pacific (stable)"
    # The bundle: everything a CI artifact needs, the cluster's logs among it.
    bundle = run.report_dir.parent / f"{run_id}.tar.gz"
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
    for name in ("results.json", "junit.xml", "report.html", "pytest-html.html", "product.json",
                 "logs/progress.log", "logs/cluster/mon.a.log", "logs/cluster/osd.0.log"):
        assert f"{run_id}/{name}" in names, (name, sorted(names))
    # The matrix page of that bundle: one column, the run's checks passed.
    out = tmp_path / "matrix.html"
    done = subprocess.run([sys.executable, "-m", "ceph_conformance", "matrix", str(bundle), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    m = open_page(browser, out, tmp_path, "integration-matrix-page")
    outcomes = m.locator("td.oc").evaluate_all("cells => cells.map(c => c.dataset.outcome)")
    assert outcomes == ["passed"] * 5, outcomes
    assert leftovers(RUN_ROOT / run_id) == []
