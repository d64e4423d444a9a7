"""The results bundle, in the spirit of Sonobuoy's: reports/<run-id>.tar.gz holding the run's report
folder (results.json, junit.xml, report.html, pytest-html.html, product.json, logs/), written at
the end of every run, so that one file carries a run to CI artifacts or to the matrix page."""

import os
import tarfile
from pathlib import Path


def bundle_path(report_dir):
    report_dir = Path(report_dir)
    return report_dir.parent / f"{report_dir.name}.tar.gz"


def write_bundle(report_dir):
    """Pack report_dir as <run-id>/... into <run-id>.tar.gz beside it, replaced whole."""
    report_dir = Path(report_dir)
    out = bundle_path(report_dir)
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(report_dir, arcname=report_dir.name)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
