import json
from types import SimpleNamespace

from ceph_conformance import secrets
from ceph_conformance.report import metrics, page, results


def report(nodeid, when, outcome, duration=0.5, longrepr=None, props=(), keywords=("object",)):
    return SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome, duration=duration, longrepr=longrepr,
                           longreprtext=str(longrepr or ""), keywords={k: 1 for k in keywords},
                           user_properties=list(props), sections=[], failed=outcome == "failed",
                           skipped=outcome == "skipped", passed=outcome == "passed")


def test_collector_keeps_one_entry_per_check_with_outcome_duration_and_metrics():
    c = results.ResultsCollector()
    prop = metrics.property_for("s3_put_64MiB", 31.04321, "MB/s")
    assert prop == ("metric:s3_put_64MiB[MB/s]", 31.043)
    for when in ("setup", "call", "teardown"):
        c.add(report("suites/test_object.py::test_a", when, "passed", props=[prop] if when == "teardown" else ()))
    c.add(report("suites/test_object.py::test_b", "setup", "passed"))
    c.add(report("suites/test_object.py::test_b", "call", "failed", longrepr="x\nE   AssertionError: bad etag\nmore"))
    c.add(report("suites/test_object.py::test_b", "teardown", "passed"))
    c.add(report("suites/test_object.py::test_c", "setup", "failed", longrepr="E   boom"))
    a, b, cc = (c.checks[f"suites/test_object.py::test_{n}"] for n in "abc")
    assert a["outcome"] == "passed" and a["duration_s"] == 1.5 and a["markers"] == ["object"]
    assert a["metrics"] == [{"name": "s3_put_64MiB", "unit": "MB/s", "value": 31.043}]
    assert b["outcome"] == "failed" and b["message"] == "AssertionError: bad etag"
    assert cc["outcome"] == "error"
    assert c.counts() == {"passed": 1, "failed": 1, "error": 1}
    assert c.all_metrics()[0]["check"] == "suites/test_object.py::test_a"


def test_an_xfail_is_recorded_as_a_known_defect_with_what_the_check_saw():
    c = results.ResultsCollector()
    nodeid = "suites/test_object_semantics.py::test_presigned_put_is_bound_to_the_headers_it_was_signed_with"
    c.add(report(nodeid, "setup", "passed"))
    call = report(nodeid, "call", "skipped", longrepr=("x.py", 1, "Skipped"))
    call.wasxfail = "known defect of rgw 16.2.15 (fixed in 20.2.4): HTTP 200, expected 403"
    c.add(call)
    c.add(report(nodeid, "teardown", "passed"))
    entry = c.checks[nodeid]
    assert entry["outcome"] == "xfailed" and entry["message"] == call.wasxfail
    assert c.counts() == {"xfailed": 1}


def test_time_to_health_ok_adds_bring_up_and_gate_wait():
    assert results.time_to_health_ok({"ok": True, "seconds": 20.04}, {"ok": True, "waited_s": 6.0}) == 26.0
    assert results.time_to_health_ok({"ok": True, "seconds": 20}, {"ok": False, "waited_s": 300}) is None
    assert results.time_to_health_ok(None, None) is None


def test_results_file_never_holds_a_registered_secret(tmp_path):
    secret = secrets.register("s3cr3t-value-for-test-0001")
    results.write_results(tmp_path / "r" / "results.json", {"message": f"failed with {secret}"})
    text = (tmp_path / "r" / "results.json").read_text()
    assert secret not in text and json.loads(text)["message"] == "failed with ***"


def test_latest_points_at_the_newest_run(tmp_path):
    (tmp_path / "run1").mkdir()
    (tmp_path / "run2").mkdir()
    results.point_latest(tmp_path, "run1")
    results.point_latest(tmp_path, "run2")
    assert (tmp_path / "latest").readlink().name == "run2"


def test_run_page_shows_the_figures_a_reader_needs():
    payload = {
        "run_id": "20261123-070000-abcd", "target": "local", "time_to_health_ok_s": 28.1,
        "cluster": {"ok": True, "facts": {"ceph_versions": ["16.2.15 pacific"], "osd_count": 3,
                                          "raw_bytes": 18 * 1024**3}},
        "phases": {"mon": 0.3, "osds": 9.1},
        "gate_start": {"ok": True, "waited_s": 1, "muted_seen": []},
        "gate_end": {"ok": False, "waited_s": 20, "problems": ["osd.2 is down"], "muted_seen": []},
        "muted_health": ["POOL_NO_REDUNDANCY"], "teardown_s": 5.7, "counts": {"passed": 1},
        "checks": [{"nodeid": "suites/test_object.py::test_x", "outcome": "passed", "duration_s": 1.0,
                    "markers": ["object"], "metrics": []}],
        "metrics": [{"check": "suites/test_object.py::test_x", "name": "s3_get_64MiB", "value": 179.1, "unit": "MB/s"}],
    }
    text = page.render_run_page(payload)
    for expected in ("16.2.15 pacific", "28.1 s", "18.0 GiB", "mon 0.3 s, osds 9.1 s", "FAILED after 20 s",
                     "osd.2 is down", "POOL_NO_REDUNDANCY", "s3_get_64MiB", "179.1", "time to HEALTH_OK",
                     'id="check-test-x"', "the run left the cluster unhealthy"):
        assert expected in text, expected


def test_run_page_escapes_what_checks_said_and_masks_secrets():
    secret = secrets.register("s3cr3t-value-for-page-0002")
    payload = {"run_id": "r", "target": "local", "cluster": {"ok": True}, "counts": {"failed": 1},
               "checks": [{"nodeid": "suites/test_object.py::test_y", "outcome": "failed", "duration_s": 1.0,
                           "markers": [], "metrics": [], "message": f"<script>alert(1)</script> key {secret}"}]}
    text = page.render_run_page(payload)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert secret not in text and "key ***" in text


def test_throughput_is_set_against_the_rados_bench_of_the_same_run():
    rows = [{"name": "rados_bench_write", "unit": "MB/s", "value": 200.0},
            {"name": "rados_bench_seq_read", "unit": "MB/s", "value": 400.0},
            {"name": "rbd_seq_write_256MiB", "unit": "MB/s", "value": 100.0},
            {"name": "s3_get_64MiB", "unit": "MB/s", "value": 100.0},
            {"name": "db_load_rows_per_s", "unit": "rows/s", "value": 9000.0}]
    assert results.relative_to_baseline(rows) == {"rbd_seq_write_256MiB": 0.5, "s3_get_64MiB": 0.25}
    assert results.relative_to_baseline(rows[2:]) == {}


def test_a_teardown_error_after_a_failure_keeps_the_failure_as_the_verdict():
    c = results.ResultsCollector()
    c.add(report("suites/test_block.py::test_x", "setup", "passed"))
    c.add(report("suites/test_block.py::test_x", "call", "failed", longrepr="E   AssertionError: write blocked"))
    c.add(report("suites/test_block.py::test_x", "teardown", "failed", longrepr="E   OSError: busy"))
    entry = c.checks["suites/test_block.py::test_x"]
    assert entry["outcome"] == "failed" and entry["message"] == "AssertionError: write blocked"
    assert entry["teardown_error"] == "OSError: busy"


def test_a_check_message_survives_a_long_assertion_diff(pytester):
    # A real pytest failure: a custom message, then pytest's explanation of two differing byte strings.
    pytester.makeconftest("""
        import json
        from ceph_conformance.report import results

        def pytest_runtest_logreport(report):
            if report.when == "call" and report.failed:
                with open("messages.json", "a") as f:
                    f.write(json.dumps(results._short(report)) + "\\n")
    """)
    pytester.makepyfile(test_diff="""
        import os

        def helper(got, expected):
            assert got == expected, "the object came back different"

        def test_with_message():
            data = os.urandom(4096)
            helper(data[:100] + bytes([data[100] ^ 1]) + data[101:], data)

        def test_bare():
            data = os.urandom(4096)
            assert data[::-1] == data
    """)
    pytester.runpytest_subprocess("-vv", "-p", "no:cacheprovider").assert_outcomes(failed=2)
    with_message, bare = [json.loads(line) for line in (pytester.path / "messages.json").read_text().splitlines()]
    assert with_message.startswith("AssertionError: the object came back different\nassert b'"), with_message[:300]
    assert bare.startswith("assert b'"), bare[:300]
    for message in (with_message, bare):
        lines = message.splitlines()
        assert len(lines) <= 1 + results.EXPLANATION_LINES + 1, f"{len(lines)} lines"
        longest = max(len(line) for line in lines)
        assert longest <= results.LINE_CHARS + 4, f"a line of {longest} characters"
        assert lines[-1].endswith("more lines in the full report)"), lines[-1][:300]


def test_run_page_of_a_run_whose_cluster_never_came_up():
    payload = {"run_id": "r", "target": "local", "started": "2026-12-01T08:00:00Z", "counts": {},
               "cluster": {"ok": False, "error": "cluster bring-up failed: no free loop device", "seconds": 2.0},
               "checks": [], "metrics": [], "disruptive_steps": [], "gate_start": None, "gate_end": None}
    text = page.render_run_page(payload)
    assert "the cluster did not come up" in text and "no free loop device" in text
    assert "No throughput was measured" in text and "No disruptive step ran" in text


def test_each_check_records_its_set_up_and_the_fixtures_that_took_it(pytester):
    # A real pytest session: a module fixture that takes 0.4 s (as a MinIO build does on first use)
    # over a function fixture of 0.2 s that asks for another of 0.3 s from its body.
    pytester.makeconftest("""
        import json
        import pytest
        from ceph_conformance.plugin.summary import FixtureTimes
        from ceph_conformance.report.results import ResultsCollector

        collector = ResultsCollector()

        def pytest_configure(config):
            config.pluginmanager.register(FixtureTimes(), "fixture-times")

        def pytest_runtest_logreport(report):
            collector.add(report)

        def pytest_sessionfinish(session):
            with open("checks.json", "w") as f:
                json.dump(list(collector.checks.values()), f)
    """)
    pytester.makepyfile(test_timed="""
        import time
        import pytest

        @pytest.fixture(scope="module")
        def server():
            time.sleep(0.4)

        @pytest.fixture
        def inner():
            time.sleep(0.3)

        @pytest.fixture
        def client(server, request):
            request.getfixturevalue("inner")
            time.sleep(0.2)

        def test_first(client):
            pass

        def test_second(client):
            pass

        def test_quick():
            pass
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    first, second, quick = json.loads((pytester.path / "checks.json").read_text())
    names = [(f["name"], f["scope"]) for f in first["fixtures"]]
    assert names == [("server", "module"), ("inner", "function"), ("client", "function")], first["fixtures"]
    seconds = {f["name"]: f["seconds"] for f in first["fixtures"]}
    # Each fixture's own time: client's 0.2 s without the 0.3 s of the fixture it asked for.
    assert 0.4 <= seconds["server"] < 0.6 and 0.3 <= seconds["inner"] < 0.45 and 0.2 <= seconds["client"] < 0.3
    assert 0.9 <= first["setup_s"] < 1.3, first["setup_s"]
    # The module's server was set up once, by the first check that used it.
    assert [f["name"] for f in second["fixtures"]] == ["inner", "client"] and 0.5 <= second["setup_s"] < 0.8
    assert "fixtures" not in quick and quick["setup_s"] < 0.1
    assert first["started"] < first["call_started"] <= first["finished"]


def test_a_check_with_a_long_set_up_is_drawn_with_it_named_and_timed():
    from ceph_conformance.report import charts

    run = {"run_id": "r", "target": "local", "started": "2026-12-01T08:00:00Z",
           "cluster": {"ok": True, "started_at": 1000.0, "seconds": 10}, "phases": {"mon": 10},
           "checks": [
               {"nodeid": "suites/test_apps_minio.py::test_a", "outcome": "passed", "duration_s": 302.0,
                "markers": ["sharedfs"], "started": 1010.0, "call_started": 1310.0, "finished": 1312.0,
                "setup_s": 300.0, "fixtures": [{"name": "fs_clients", "scope": "module", "seconds": 1.5},
                                               {"name": "minio", "scope": "module", "seconds": 298.2}]},
               # Recorded before set-up times were: its set-up is the time from its start to its body's.
               {"nodeid": "suites/test_block.py::test_b", "outcome": "passed", "duration_s": 9.0, "markers": [],
                "started": 1312.0, "call_started": 1320.0, "finished": 1321.0},
               {"nodeid": "suites/test_block.py::test_c", "outcome": "passed", "duration_s": 1.0, "markers": [],
                "started": 1321.0, "call_started": 1321.2, "finished": 1322.0, "setup_s": 0.2}]}
    chart = charts.timeline(run)
    setups = [s for s in chart.items if s.kind == "setup"]
    assert setups[0].label == "minio (first use) 298 s"
    assert charts.setup_label(run["checks"][1]) == "set-up 8.0 s"
    assert setups[1].label == "" and setups[1].width < 30  # 8 s of 312: no room for its label (its title says it)
    assert setups[0].title == ("set-up of suites/test_apps_minio.py::test_a: 300 s: minio (module fixture, first use) "
                               "298 s; fs_clients (module fixture, first use) 1.5 s; the rest 0.3 s")
    assert "did not record its fixtures' times" in setups[1].title
    # The set-up and its check share a row; the check's bar begins where its set-up ends.
    minio_check = next(s for s in chart.items if s.kind == "passed" and "test_a" in s.title)
    assert minio_check.y == setups[0].y and abs(minio_check.x - (setups[0].x + setups[0].width)) < 0.01
