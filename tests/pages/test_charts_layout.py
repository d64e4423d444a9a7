"""The pictures as a reader sees them: each as wide as its panel, and no text drawn over another
text, over a baseline tick, or past the picture's edge (the browser's own boxes of the SVG texts)."""

from ceph_conformance.report import page

from .conftest import box, open_page, overprints, real_results, shoot

PICTURES = ("timeline", "throughput", "shape")


def _write(tmp_path, results):
    return page.write_run_page(tmp_path / "report.html", results, "pytest-html.html")


def _crowded(results):
    """The real run with figures that crowd the throughput chart: a name longer than its column, a
    figure right at its baseline and one just under it, one far below it."""
    check = "suites/test_sharedfs.py::test_large_file_crosses_clients_intact"
    base = {m["name"]: m["value"] for m in results["metrics"]}
    results["metrics"] += [
        {"check": check, "name": "cephfs_read_64MiB_through_the_second_client_after_the_mds_failed_over_to_its_standby",
         "unit": "MB/s", "value": base["rados_bench_seq_read"] * 0.97},
        {"check": check, "name": "cephfs_write_at_the_baseline", "unit": "MB/s", "value": base["rados_bench_write"]},
        {"check": check, "name": "cephfs_write_just_under_the_baseline", "unit": "MB/s",
         "value": base["rados_bench_write"] * 0.93},
        {"check": check, "name": "cephfs_write_small_files", "unit": "MB/s", "value": 0.4}]
    return results


def test_no_text_of_a_picture_overprints_another_and_each_uses_its_panel(browser, tmp_path):
    for name, results in (("run-page-pictures", real_results()),
                          ("run-page-pictures-crowded", _crowded(real_results()))):
        folder = tmp_path / name
        folder.mkdir()
        p = open_page(browser, _write(folder, results), folder, name)
        for picture in PICTURES:
            svg = p.locator(f"svg.{picture}")
            assert overprints(svg) == [], (name, picture)
            panel = box(p.locator(f"#{'disruptive' if picture == 'shape' else picture} .panel"))
            assert box(svg)["width"] >= panel["width"] - 32, (name, picture, box(svg), panel)
        for part in ("timeline", "throughput", "disruptive"):
            shoot(p.locator(f"#{part}"), folder, f"{name}-{part}")
        # Each figure and its share of the baseline stand in columns right of every bar and tick.
        values = p.locator("svg.throughput text.value")
        rightmost = max(box(p.locator("svg.throughput rect.bar").nth(i))["x"]
                        + box(p.locator("svg.throughput rect.bar").nth(i))["width"] for i in range(values.count()))
        edges = {round(box(values.nth(i))["x"] + box(values.nth(i))["width"]) for i in range(values.count())}
        assert len(edges) == 1 and min(box(values.nth(i))["x"] for i in range(values.count())) > rightmost, edges
        shares = p.locator("svg.throughput text.share").all_text_contents()
        assert shares[:2] == ["baseline", "baseline"] and "14 %" in shares, shares
    # The name longer than its column is cut, and whole in the bar's tooltip.
    label = p.locator("svg.throughput g", has=p.locator("title", has_text="mds_failed_over_to_its_standby"))
    assert label.locator("text").first.text_content().endswith("…")


def test_the_overprint_check_sees_a_label_on_a_tick_and_two_texts_on_each_other(browser, tmp_path):
    # The check itself, on a picture drawn wrong on purpose: without it the test above proves nothing.
    path = tmp_path / "wrong.html"
    path.write_text("""<!DOCTYPE html><html><body><svg class="wrong" width="400" height="60" viewBox="0 0 400 60">
      <text x="10" y="20">108.2 (70 %)</text><line class="tick" x1="40" x2="40" y1="5" y2="25"/>
      <text x="200" y="20">first label</text><text x="230" y="24">second label</text>
      <text x="360" y="50">past the edge</text></svg></body></html>""")
    p = open_page(browser, path, tmp_path, "overprint-check")
    assert overprints(p.locator("svg.wrong")) == [
        "'first label' overlaps 'second label'", "a dashed baseline tick crosses '108.2 (70 %)'",
        "'past the edge' lies outside the picture"]

