"""Listing the checks runs none of them: nothing is created under the run root."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_collect_only_lists_every_check_and_leaves_no_run_directory(tmp_path):
    run_root = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-p", "no:cacheprovider",
                           "--collect-only", "-q", f"--run-root={run_root}", f"--report-dir={tmp_path / 'reports'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "suites/test_object.py::test_bucket_create_list_delete" in proc.stdout
    assert not run_root.exists() or not any(run_root.iterdir()), list(run_root.rglob("*"))
    assert not (tmp_path / "reports").exists()
