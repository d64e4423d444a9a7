"""The check catalogue (docs/checks.md) is generated from the checks; the committed page must match them."""

import subprocess
import sys
from pathlib import Path

from ceph_conformance.report import catalogue

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "checks.md"


def test_the_committed_catalogue_is_what_the_checks_say_now():
    fresh = catalogue.render(catalogue.checks(REPO / "suites"))
    committed = PAGE.read_text() if PAGE.exists() else ""
    assert committed == fresh, (f"{PAGE.relative_to(REPO)} is stale: run `{catalogue.COMMAND}` "
                                "from the repository root and commit the page")


def test_every_check_says_in_its_docstring_what_it_proves():
    missing = [f"{c.module}::{c.name}" for c in catalogue.checks(REPO / "suites") if not c.summary]
    assert not missing, f"checks without a docstring (the catalogue's line comes from it): {missing}"


def test_the_catalogue_holds_every_check_pytest_collects(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-p", "no:cacheprovider",
                           "--collect-only", "-q", f"--run-root={tmp_path / 'runs'}",
                           f"--report-dir={tmp_path / 'reports'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = {line.split("::")[1].split("[")[0] for line in proc.stdout.splitlines() if "::" in line}
    assert collected == {c.name for c in catalogue.checks(REPO / "suites")}


def test_markers_come_from_the_module_and_the_decorators(tmp_path):
    (tmp_path / "test_sample.py").write_text(
        'import pytest\n\npytestmark = [pytest.mark.object, pytest.mark.smoke]\n\n\n'
        '@pytest.mark.measures\n@pytest.mark.parametrize("n", [1, 2])\n'
        'def test_one(n):\n    """Proves one thing. And more detail.\n\n    Second paragraph."""\n')
    (check,) = catalogue.checks(tmp_path)
    assert check.markers == ("object", "smoke", "measures")
    assert check.parametrized and check.summary == "Proves one thing."
