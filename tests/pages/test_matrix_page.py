"""The matrix page of several runs as a reader sees it: a column per run labelled by its axes, a
red cell with its reason where a run failed, and the checks that differ flagged."""

import json
import subprocess
import sys

from ceph_conformance.report.bundle import write_bundle

from .conftest import open_page, real_results

RED = "rgb(255, 228, 225)"


def _run_folder(root, results):
    folder = root / results["run_id"]
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_matrix_of_a_folder_and_a_bundle_flags_what_differs(browser, tmp_path):
    first = real_results()
    second = real_results()
    second["run_id"], second["started"] = "20261201-090000-beef", "2026-12-01T09:00:00Z"
    second["product"] = {"target": "local", "ceph_versions": ["16.2.15 pacific"], "options": {"nodes": "3"},
                         "selection": {"-m": "health or object"}}
    failed = next(c for c in second["checks"] if c["nodeid"].endswith("test_mgr_active"))
    failed.update(outcome="failed", message="AssertionError: no active mgr: mgrmap says available=false")
    second["checks"] = [c for c in second["checks"] if "test_health" in c["nodeid"] or "test_object" in c["nodeid"]]
    for c in second["checks"]:  # a newer run records each check's set-up; the first predates that
        c.update(setup_s=0.012, fixtures=[{"name": "s3_user", "scope": "module", "seconds": 0.3}])
    a = _run_folder(tmp_path / "reports", first)
    bundle = write_bundle(_run_folder(tmp_path / "other", second))
    out = tmp_path / "matrix.html"
    done = subprocess.run([sys.executable, "-m", "ceph_conformance", "matrix", str(a), str(bundle), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2 runs" in done.stdout
    p = open_page(browser, out, tmp_path, "matrix-page")
    assert p.locator("th.run").count() == 2
    assert [p.locator("th.run .id").nth(i).inner_text() for i in range(2)] == [first["run_id"], second["run_id"]]
    # The axis that varies is marked, in both columns; the real run predates the product descriptor,
    # so it cannot say which --nodes it had.
    nodes = p.locator("tr.axis", has=p.locator("th", has_text="--nodes")).locator("td")
    assert nodes.all_inner_texts() == ["?", "3"]
    assert nodes.first.get_attribute("class") == "axis differs"
    # The failed check: a red cell with its reason, its row flagged; the other run's cell green.
    row = p.locator('tr.check-row[data-nodeid="suites/test_health.py::test_mgr_active"]')
    assert "differs" in row.get_attribute("class") and row.locator(".flag").inner_text() == "differs"
    cells = row.locator("td.oc")
    assert [cells.nth(i).get_attribute("data-outcome") for i in range(2)] == ["passed", "failed"]
    assert cells.nth(1).evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert "no active mgr" in cells.nth(1).locator(".reason").inner_text()
    # Checks the second run did not select are shown as absent, not as failures.
    absent = p.locator('tr.check-row[data-nodeid^="suites/test_block.py"] td.oc[data-outcome="absent"]')
    assert absent.count() == 9
    # Headline figures, per run.
    tth = p.locator('tr.headline[data-figure="time to HEALTH_OK"] td').all_inner_texts()
    assert tth == ["33.4 s", "33.4 s"], tth
    verdict = p.locator('tr.headline[data-figure="verdict"] td')
    assert verdict.nth(0).evaluate("e => getComputedStyle(e).backgroundColor") == RED  # its cleanup error
    # Every figure of a cell is there: the multipart check's throughputs.
    multipart = p.locator('tr.check-row[data-nodeid="suites/test_object.py::test_put_get_roundtrip_multipart"] td.oc')
    assert "s3_get_64MiB 414.395 MB/s" in multipart.first.inner_text()
    assert p.locator("tr.check-row.differs").count() == 1  # only the mgr check differs among shared checks
    # The folder's column links to its own report.html (none written here, so no link).
    assert p.locator("th.run a").count() == 0


def test_matrix_says_in_one_line_what_is_wrong_with_a_path(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tarball")
    for path, expected in ((tmp_path / "nope", "no such report folder or bundle"),
                           (tmp_path / "empty", "no run here"),
                           (tmp_path / "broken.tar.gz", "not a readable .tar.gz bundle")):
        done = subprocess.run([sys.executable, "-m", "ceph_conformance", "matrix", str(path),
                               "-o", str(tmp_path / "m.html")], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
