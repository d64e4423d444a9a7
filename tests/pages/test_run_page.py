"""The run's report.html as a reader sees it: the verdict matrix, its red cells with their reasons,
links into each check's details, and the pictures."""

import json

from ceph_conformance import secrets
from ceph_conformance.report import page

from .conftest import box, open_page, real_results, shoot

RED = "rgb(255, 228, 225)"
GREEN = "rgb(218, 251, 225)"


def _write(tmp_path, results):
    (tmp_path / "results.json").write_text(json.dumps(results))
    return page.write_run_page(tmp_path / "report.html", results, "pytest-html.html")


def test_a_real_runs_page_shows_the_verdict_matrix_and_its_red_cell(browser, tmp_path):
    results = real_results()
    p = open_page(browser, _write(tmp_path, results), tmp_path, "run-page")
    banner = p.locator("#verdict-banner")
    assert "not conformant: 1 of 42 checks failed" in banner.inner_text()
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    cells = p.locator("#feature-matrix td.cell:not(.none)")
    outcomes = [cells.nth(i).get_attribute("data-outcome") for i in range(cells.count())]
    assert outcomes.count("error") == 1 and set(outcomes) == {"passed", "error"}, outcomes
    # The one cleanup error of that run: block x performance, red, saying why.
    bad = p.locator('td.cell[data-area="block"][data-capability="performance"]')
    assert bad.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert "RBD image(s) of the run could not be removed" in bad.locator(".reason").inner_text()
    good = p.locator('td.cell[data-area="health"][data-capability="availability"]')
    assert good.evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
    assert "5 of 5 checks" in good.inner_text()
    # The cell leads to that check's details, which say the same in full.
    bad.locator("a").click()
    target = p.locator(".check:target")
    assert target.get_attribute("data-nodeid") == \
        "suites/test_block.py::test_sequential_throughput_through_the_mounted_volume"
    assert target.is_visible() and "watchers" in target.locator("pre.message").inner_text()
    p.screenshot(path=str(tmp_path / "run-page-after-click.png"))
    # Every check of the run has its details on the page.
    assert p.locator(".check").count() == len(results["checks"]) == 42


def test_every_picture_is_drawn_with_its_parts(browser, tmp_path):
    results = real_results()
    p = open_page(browser, _write(tmp_path, results), tmp_path, "run-page-charts")
    for name in ("timeline", "throughput", "shape"):
        b = box(p.locator(f"svg.{name}"))
        assert b["width"] > 300 and b["height"] > 80, (name, b)
    # Throughput: a bar per MB/s figure, the two rados bench bars among them.
    mbps = [m for m in results["metrics"] if m["unit"] == "MB/s"]
    assert p.locator("svg.throughput rect.bar").count() == len(mbps)
    assert p.locator("svg.throughput rect.bar.base").count() == 2
    assert all(box(p.locator("svg.throughput rect.bar").nth(i))["width"] > 0 for i in range(len(mbps)))
    # Timeline: bring-up phases, both gates, each check, each disruptive step's recovery.
    assert p.locator("svg.timeline rect.seg.phase").count() == 6
    assert p.locator("svg.timeline rect.seg.gate").count() == 2
    assert p.locator("svg.timeline rect.seg.recovery").count() == 4
    assert p.locator("svg.timeline rect.seg.error").count() == 1
    # OSDs and capacity: the start and after each of the four steps, both rows.
    assert p.locator("svg.shape rect").count() == 10
    texts = [t.strip() for t in p.locator("svg.shape text").all_text_contents()]
    assert texts.count("6") == 3 and "36.0" in texts, texts


def test_a_failed_check_and_a_skip_say_why_and_secrets_stay_masked(browser, tmp_path):
    results = real_results()
    secret = secrets.register("s3cr3t-for-the-page-test-0003")
    by_id = {c["nodeid"]: c for c in results["checks"]}
    by_id["suites/test_object.py::test_ranged_get"].update(
        outcome="failed", message=f"AssertionError: bytes=0-9 returned 9 bytes, key {secret}")
    by_id["suites/test_object.py::test_wrong_secret_is_rejected"].update(
        outcome="skipped", message="target ceph offers no S3 endpoint")
    results["counts"] = {"passed": 39, "failed": 1, "error": 1, "skipped": 1}
    p = open_page(browser, _write(tmp_path, results), tmp_path, "run-page-failed")
    cell = p.locator('td.cell[data-area="object"][data-capability="semantics"]')
    assert cell.get_attribute("data-outcome") == "failed"
    assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert "bytes=0-9 returned 9 bytes" in cell.inner_text() and "1 of 5 checks" in cell.inner_text()
    skipped = p.locator('td.cell[data-area="object"][data-capability="security"]')
    assert skipped.get_attribute("data-outcome") == "skipped" and "no S3 endpoint" in skipped.inner_text()
    text = p.locator("body").inner_text()
    assert secret not in text and "key ***" in text


def test_the_object_summary_names_each_group_and_leads_to_what_failed(browser, tmp_path):
    results = real_results()
    by_id = {c["nodeid"]: c for c in results["checks"]}
    base = by_id["suites/test_object.py::test_ranged_get"]
    for name, outcome, message in (
            ("test_versioning_keeps_every_version_of_an_overwritten_key", "passed", None),
            ("test_deleting_a_version_removes_only_that_version", "failed",
             "AssertionError: a PUT into a versioned bucket answered version id None"),
            ("test_cors_preflight_answers_allowed_origins_only", "passed", None)):
        results["checks"].append({**base, "nodeid": f"suites/test_object_semantics.py::{name}", "outcome": outcome,
                                  "message": message})
    results["counts"] = {"passed": 43, "failed": 1, "error": 1}
    p = open_page(browser, _write(tmp_path, results), tmp_path, "run-page-groups")
    summary = p.locator("#object-groups")
    assert summary.locator("h3").inner_text() == "object (S3) by client and family"
    line = summary.locator(".group-line").inner_text()
    assert line == "boto3: pass, multipart: pass, versioning: 1 failed, presigned: pass, cors: pass", line
    bad = summary.locator('a.group[data-group="versioning"]')
    assert bad.get_attribute("data-outcome") == "failed"
    assert bad.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert summary.locator('a.group[data-group="cors"]').evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
    bad.click()
    target = p.locator(".check:target")
    assert target.get_attribute("data-nodeid") == \
        "suites/test_object_semantics.py::test_deleting_a_version_removes_only_that_version"
    assert "· versioning ·" in target.locator(".meta").first.inner_text()
    assert "answered version id None" in target.locator("pre.message").inner_text()


def _with_a_minio_build(results, build_s=300.0):
    """The real run as if MinIO had been built in its fixture on first use, after the shared FS
    checks: the check's body 2 s after a set-up of build_s, every later check that much later."""
    sharedfs = [c for c in results["checks"] if c["nodeid"].startswith("suites/test_sharedfs.py")]
    at = max(c["finished"] for c in sharedfs)
    shift = build_s + 2.0 + 0.5
    for c in results["checks"]:
        if c["started"] >= at:
            for key in ("started", "call_started", "finished"):
                c[key] += shift
    results["checks"].append({
        "nodeid": "suites/test_apps_minio.py::test_objects_stored_through_minio_are_files_the_other_client_reads",
        "outcome": "passed", "duration_s": build_s + 2.1, "metrics": [], "message": None, "markers": ["sharedfs"],
        "started": at + 0.2, "call_started": at + 0.2 + build_s, "finished": at + 2.3 + build_s, "setup_s": build_s,
        "fixtures": [{"name": "fs_clients", "scope": "module", "seconds": 1.2},
                     {"name": "minio", "scope": "module", "seconds": build_s - 1.4}]})
    return results


def test_a_fixtures_set_up_is_a_bar_of_its_own_named_and_timed(browser, tmp_path):
    results = _with_a_minio_build(real_results())
    p = open_page(browser, _write(tmp_path, results), tmp_path, "run-page-setup")
    shoot(p.locator("#timeline"), tmp_path, "run-page-setup-timeline")
    setups = p.locator("svg.timeline rect.seg.setup")
    # MinIO's, and those the real run recorded as the time from a check's start to its body's
    # (a block volume 7.9 s, the sharedfs clients 2.0 s, a new host 20 s).
    assert setups.count() == 4
    minio = p.locator("svg.timeline g", has=p.locator("title", has_text="set-up of suites/test_apps_minio.py"))
    assert minio.locator("text").text_content() == "minio (first use) 299 s"
    assert "minio (module fixture, first use) 299 s; fs_clients (module fixture, first use) 1.2 s" in \
        minio.locator("title").text_content()
    # Its bar is as long as its time, the check's own bar right after it on the same row.
    bar = box(minio.locator("rect"))
    body = box(p.locator("svg.timeline g", has=p.locator(
        "title", has_text="minio_are_files_the_other_client_reads: passed")).locator("rect"))
    assert abs(bar["y"] - body["y"]) < 0.5 and abs(bar["x"] + bar["width"] - body["x"]) < 1
    assert 100 < bar["width"] / max(body["width"], 2) < 160  # 298 s beside 2 s (drawn at least 2 px)
    hatch = minio.locator("rect").evaluate("e => getComputedStyle(e).fill")
    assert "setup-hatch" in hatch, hatch
    assert "fixture set-up" in p.locator("#timeline .legend").inner_text()
    # The check's details say it too.
    details = p.locator('.check[data-nodeid$="test_objects_stored_through_minio_are_files_the_other_client_reads"]')
    assert "(set-up 300 s: minio (first use) 299 s)" in details.locator(".meta").first.inner_text()


def test_the_measured_table_has_one_row_per_check_in_the_matrix_order(browser, tmp_path):
    results = real_results()
    p = open_page(browser, _write(tmp_path, results), tmp_path, "run-page-measured")
    shoot(p.locator("#throughput"), tmp_path, "run-page-measured-table")
    rows = p.locator("#metrics-table tbody tr")
    nodeids = [rows.nth(i).get_attribute("data-nodeid") for i in range(rows.count())]
    measuring = {m["check"] for m in results["metrics"] if m["unit"] != "count"}
    assert len(nodeids) == len(set(nodeids)) == len(measuring) == 9 and set(nodeids) == measuring
    # Each figure of the run once, in its check's row.
    figures = [m for m in results["metrics"] if m["unit"] != "count"]
    assert p.locator("#metrics-table .figure").count() == len(figures) == 16
    bench = rows.nth(0)
    assert bench.get_attribute("data-nodeid").endswith("::test_rados_bench_baseline")
    assert bench.locator(".figure").all_inner_texts() == ["rados_bench_write 116.7 MB/s",
                                                          "rados_bench_seq_read 836.4 MB/s"]
    db = p.locator('#metrics-table tr[data-nodeid$="test_database_round_trip_spans_many_rados_objects"]')
    assert db.locator('.figure[data-figure="db_load_MBps"]').inner_text() == \
        "db_load_MBps 16.7 MB/s (14 % of rados bench)"
    # Sorted as the verdict matrix is: by its rows (areas), then its columns (capabilities).
    area_rows = p.locator("#feature-matrix th.area").all_inner_texts()
    columns = p.locator("#feature-matrix th.cap").all_inner_texts()
    cells = [rows.nth(i).locator("td").all_inner_texts()[:2] for i in range(rows.count())]
    places = [(area_rows.index(area), columns.index(capability)) for area, capability in cells]
    assert places == sorted(places), cells
