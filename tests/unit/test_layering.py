"""The data-plane seam is enforced by `make lint` (import-linter): a check, fixture or ledger part
that reaches for this host or a target's internals fails the lint, naming the import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def project(tmp_path):
    """A copy of the project's packages and lint configuration, to break on purpose."""
    for name in ("suites", "fixtures", "ceph_conformance"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


def _lint(project):
    # Run with the copy first on the path: the installed project is an editable install of the repo.
    code = f"import sys; sys.path.insert(0, {str(project)!r}); from importlinter.cli import lint_imports_command; " \
           "sys.argv = ['lint-imports', '--no-cache']; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("where", "line", "named"), [
    ("suites/test_reaches_the_host.py", "import subprocess\n", "suites.test_reaches_the_host -> subprocess"),
    ("fixtures/reaches_the_host.py", "from ceph_conformance.host import loopdev\n",
     "fixtures.reaches_the_host -> ceph_conformance.host.loopdev"),
    ("ceph_conformance/ledger/reaches_a_target.py", "from ..targets.local.cluster import LocalCluster\n",
     "ceph_conformance.ledger.reaches_a_target -> ceph_conformance.targets.local.cluster"),
])
def test_a_check_fixture_or_ledger_part_reaching_past_the_seam_fails_the_lint(project, where, line, named):
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} missing: install the test extra (make venv)"
    (project / where).write_text(line)
    proc = _lint(project)
    assert proc.returncode != 0, proc.stdout
    said = " ".join(proc.stdout.split())  # the report wraps long lines
    assert "BROKEN" in said and named in said, proc.stdout[-2000:]


# The package's layers (pyproject.toml): a lower layer that imports a higher one fails the lint.
@pytest.mark.parametrize(("where", "line", "named"), [
    ("ceph_conformance/host/climbs.py", "from ..targets.host_clients.tools import HostCephTools\n",
     "ceph_conformance.host.climbs -> ceph_conformance.targets.host_clients.tools"),
    ("ceph_conformance/unplaced.py", "from .targets.host_clients.rbd import RbdVolume\n", "unplaced"),
    ("ceph_conformance/clients/climbs.py", "from ..plugin import context\n",
     "ceph_conformance.clients.climbs -> ceph_conformance.plugin"),
], ids=["host imports a target", "a root module in no layer", "a client imports the plugin"])
def test_a_module_importing_a_layer_above_its_own_fails_the_lint(project, where, line, named):
    (project / where).write_text(line)
    proc = _lint(project)
    assert proc.returncode != 0, proc.stdout
    said = " ".join(proc.stdout.split())
    assert "the package's layers: each imports only the layers below it BROKEN" in said, proc.stdout[-2000:]
    assert named in said, proc.stdout[-2000:]


def test_a_utility_importing_the_host_names_the_climb(project):
    (project / "ceph_conformance" / "waits.py").write_text(
        (REPO / "ceph_conformance" / "waits.py").read_text() + "\nfrom .host import processes  # noqa: E402\n")
    proc = _lint(project)
    said = " ".join(proc.stdout.split())
    assert proc.returncode != 0 and "ceph_conformance.waits -> ceph_conformance.host.processes" in said, \
        proc.stdout[-2000:]
