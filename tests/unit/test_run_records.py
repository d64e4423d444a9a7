"""What a run leaves for people and for the matrix: the bundle, the kept logs, the product
descriptor, and the matrix's reading of runs."""

import json
import tarfile
from types import SimpleNamespace

import pytest

from ceph_conformance import secrets
from ceph_conformance.options import RunOptions
from ceph_conformance.report import bundle, charts, logs, matrix, product


def test_bundle_holds_the_run_folder_under_its_id(tmp_path):
    run = tmp_path / "reports" / "20261201-080159-c038"
    (run / "logs" / "cluster").mkdir(parents=True)
    for name in ("results.json", "junit.xml", "report.html", "product.json", "logs/cluster/mon.a.log"):
        (run / name).write_text("{}" if name.endswith(".json") else name)
    out = bundle.write_bundle(run)
    assert out == tmp_path / "reports" / "20261201-080159-c038.tar.gz"
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
    assert {"20261201-080159-c038/results.json", "20261201-080159-c038/junit.xml",
            "20261201-080159-c038/logs/cluster/mon.a.log"} <= names
    assert not list(out.parent.glob(".*.tar.gz.*")), "a temporary file was left"


def test_kept_logs_are_the_end_of_each_file_with_secrets_masked(tmp_path, monkeypatch):
    secret = secrets.register("AQsecretkeyforthelogtest000000000000==")
    monkeypatch.setattr(logs, "LIMIT", 1000)
    big = tmp_path / "osd.0.log"
    big.write_text("".join(f"line {i} early\n" for i in range(500)) + f"the end, key {secret}\n")
    small = tmp_path / "mon.a.log"
    small.write_text("mon up\n")
    kept = logs.keep({"cluster/osd.0.log": big, "cluster/mon.a.log": small, "gone.log": tmp_path / "no"},
                     tmp_path / "out")
    text = (tmp_path / "out" / "cluster" / "osd.0.log").read_text()
    assert text.startswith("[the first ") and "the end, key ***" in text and secret not in text
    assert "line 0 early" not in text
    assert (tmp_path / "out" / "cluster" / "mon.a.log").read_text() == "mon up\n"
    assert (tmp_path / "out" / "gone.log.unreadable").exists()
    assert [k[0] for k in kept] == ["cluster/osd.0.log", "cluster/mon.a.log"]


def test_product_names_the_axes_of_a_run():
    config = SimpleNamespace(option=SimpleNamespace(markexpr="health or object", keyword="", numprocesses=2))
    options = RunOptions(nodes=3, mute_health=["POOL_NO_REDUNDANCY"], report_dir="/elsewhere")
    cluster = {"facts": {"ceph_versions": ["16.2.15 pacific"]}, "description": {"rook_version": "1.20.6"}}
    p = product.describe(options, cluster, config)
    assert p["options"] == {"nodes": "3", "mute_health": "POOL_NO_REDUNDANCY"}  # report_dir is no axis
    assert p["selection"] == {"-m": "health or object", "-n": "2"} and p["rook_version"] == "1.20.6"
    labels = dict(product.axes({"product": p}))
    assert labels["Ceph"] == "16.2.15 pacific" and labels["--nodes"] == "3" and labels["Rook"] == "1.20.6"
    # Runs written before the descriptor existed are labelled from their facts.
    assert product.axes({"target": "local", "cluster": {"facts": {"ceph_versions": ["16.2.15 pacific"]}}}) == \
        [("target", "local"), ("Ceph", "16.2.15 pacific")]


def _results(run_id, started, outcome):
    return {"run_id": run_id, "started": started, "target": "local", "cluster": {"ok": True},
            "checks": [{"nodeid": "suites/test_health.py::test_mgr_active", "outcome": outcome, "duration_s": 0.5,
                        "metrics": [{"name": "s3_retries", "unit": "count", "value": 0.0}]}]}


def test_matrix_takes_folders_bundles_and_folders_of_them_each_run_once(tmp_path):
    root = tmp_path / "artifacts"
    runs = (("r2", "2026-12-01T09:00:00Z", "failed"), ("r1", "2026-12-01T08:00:00Z", "passed"))
    for run_id, started, outcome in runs:
        folder = root / run_id
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(_results(run_id, started, outcome)))
    bundle.write_bundle(root / "r2")  # the folder and its own bundle: one run
    runs = matrix.load_runs([root], tmp_path)
    assert [r.run_id for r in runs] == ["r1", "r2"]  # oldest first
    rows = matrix.rows(runs)
    assert len(rows) == 1 and rows[0].differs and rows[0].cells[0]["figures"] == []  # a zero tally is no figure
    only_bundle = matrix.load_runs([root / "r2.tar.gz"], tmp_path)
    assert only_bundle[0].results["checks"][0]["outcome"] == "failed" and only_bundle[0].report_href is None


def test_matrix_refuses_a_tarball_that_is_not_a_bundle(tmp_path):
    other = tmp_path / "other.tar.gz"
    (tmp_path / "x.txt").write_text("x")
    with tarfile.open(other, "w:gz") as tar:
        tar.add(tmp_path / "x.txt", arcname="x.txt")
    with pytest.raises(matrix.RunSourceError, match="without <run-id>/results.json"):
        matrix.load_runs([other], tmp_path)


def test_throughput_bars_scale_with_their_figures_and_mark_the_baseline():
    rows = [{"name": "rados_bench_write", "unit": "MB/s", "value": 100.0, "check": "a"},
            {"name": "rados_bench_seq_read", "unit": "MB/s", "value": 400.0, "check": "a"},
            {"name": "s3_put_4MiB", "unit": "MB/s", "value": 50.0, "check": "b"},
            {"name": "db_load_rows_per_s", "unit": "rows/s", "value": 9000.0, "check": "c"}]
    chart = charts.throughput(rows)
    bars = {b.label: b for b in chart.items}
    assert list(bars) == ["rados_bench_write", "rados_bench_seq_read", "s3_put_4MiB"]
    assert bars["rados_bench_seq_read"].width == pytest.approx(4 * bars["rados_bench_write"].width)
    assert bars["s3_put_4MiB"].ratio == 0.5 and bars["s3_put_4MiB"].tick_x == pytest.approx(
        bars["rados_bench_write"].x + bars["rados_bench_write"].width)
    assert charts.throughput(rows[3:]) is None


def test_timeline_gives_overlapping_checks_their_own_rows_and_starts_at_bring_up():
    t0 = 1_800_000_000.0
    results = {
        "cluster": {"ok": True, "started_at": t0, "seconds": 10.0}, "phases": {"mon": 4.0, "osds": 6.0,
                                                                               "bring_up_total": 10.0},
        "gate_start": {"ok": True, "waited_s": 2.0}, "gate_end": {"ok": True, "waited_s": 1.0}, "teardown_s": 3.0,
        "checks": [  # two xdist workers at once, then a disruptive step with its recovery
            {"nodeid": "suites/test_a.py::test_1", "outcome": "passed", "duration_s": 5, "markers": [],
             "started": t0 + 12, "call_started": t0 + 12, "finished": t0 + 17},
            {"nodeid": "suites/test_b.py::test_2", "outcome": "failed", "duration_s": 5, "markers": [],
             "started": t0 + 13, "call_started": t0 + 13, "finished": t0 + 18},
            {"nodeid": "suites/test_scale.py::test_3", "outcome": "passed", "duration_s": 10, "markers": ["disruptive"],
             "started": t0 + 18, "call_started": t0 + 19, "finished": t0 + 29,
             "steps": [{"step": "test_3", "recovery_s": 4.0}]},
        ]}
    chart = charts.timeline(results, href=lambda nodeid: "#" + nodeid)
    segs = {(s.kind, s.label): s for s in chart.items}
    assert segs[("phase", "mon")].x == 130 and segs[("phase", "osds")].x > segs[("phase", "mon")].x
    one, two = segs[("passed", "1")], segs[("failed", "2")]
    assert one.y != two.y, "overlapping checks share a row"
    step, recovery = segs[("step", "3")], segs[("recovery", "")]
    assert recovery.y == step.y and recovery.x + recovery.width == step.x + step.width
    assert recovery.width == pytest.approx(step.width * 0.4) and recovery.href == "#suites/test_scale.py::test_3"
    assert [lane for _, lane, _ in chart.lanes] == ["bring-up", "gates", "checks", "disruptive"]
    assert max(x for x, _ in chart.ticks) <= chart.width
