"""scripts/project-tests: its totals come from each part's JUnit report, and a part that ran no
test fails the whole run; prebuild's steps and its refusal of an unknown one."""

import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path

from ceph_conformance import prebuild

REPO = Path(__file__).resolve().parents[2]


def _script():
    loader = importlib.machinery.SourceFileLoader("project_tests", str(REPO / "scripts" / "project-tests"))
    spec = importlib.util.spec_from_loader("project_tests", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _pytest_junit(tmp_path, body):
    (tmp_path / "test_x.py").write_text(body)
    junit = tmp_path / "x.xml"
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:ceph_conformance.plugin", str(tmp_path / "test_x.py"), f"--junitxml={junit}"],
                         cwd=tmp_path)
    return rc, junit


def test_counts_come_from_a_real_junit_report(tmp_path):
    rc, junit = _pytest_junit(tmp_path, "import pytest\n"
                              "def test_a(): pass\n"
                              "def test_b(): assert False\n"
                              "@pytest.mark.skip(reason='x')\n"
                              "def test_c(): pass\n"
                              "@pytest.fixture\n"
                              "def broken(): raise RuntimeError\n"
                              "def test_d(broken): pass\n")
    assert rc == 1
    assert _script().counts(junit) == (1, 2, 1)  # an error counts as failed
    assert _script().counts(tmp_path / "missing.xml") is None


def test_a_part_that_runs_no_test_fails_the_run(tmp_path, capsys, monkeypatch):
    script = _script()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.setitem(script.PARTS, "unit", [str(empty), "-c", str(empty / "pytest.ini"), "-p", "no:cacheprovider",
                                               "-p", "no:ceph_conformance.plugin"])
    monkeypatch.setattr(script, "PYTHON", Path(sys.executable))
    rc = script.main(["--parts", "unit", "--no-prebuild", "--log-dir", str(tmp_path / "logs")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "it ran no test (pytest exit 5), which counts as a failure" in out
    assert "total: 0 passed, 0 failed, 0 skipped" in out


def test_prebuild_refuses_an_unknown_step_and_keeps_its_order(capsys):
    assert list(prebuild.STEPS)[:3] == ["registry", "ghost", "minio"]
    try:
        prebuild.main(["no-such-step"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "unknown step no-such-step" in capsys.readouterr().err


def test_a_failed_step_is_said_and_the_others_still_run(monkeypatch):
    from ceph_conformance.errors import SetupError

    ran = []

    def fails(progress):
        raise SetupError("no go here")

    monkeypatch.setitem(prebuild.STEPS, "registry", fails)
    monkeypatch.setitem(prebuild.STEPS, "ghost", lambda progress: ran.append("ghost"))
    lines = []
    done = prebuild.run(["registry", "ghost"], progress=lines.append)
    assert done["registry"] == "failed: no go here" and isinstance(done["ghost"], float) and ran == ["ghost"]
    assert "prebuild registry failed after 0s: no go here" in lines
