"""The verdict matrix: every check of suites/ placed, cells the worst of their checks."""

import ast
from pathlib import Path

from ceph_conformance.report import features

SUITES = Path(__file__).resolve().parents[2] / "suites"


def _check_functions():
    for module in sorted(SUITES.glob("test_*.py")):
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield module.name, node.name


def test_every_check_of_the_suite_has_its_place_in_the_matrix():
    fmap = features.feature_map()
    unplaced = [f"{m}::{name}" for m, name in _check_functions() if name not in fmap.checks]
    assert not unplaced, f"add these to ceph_conformance/report/capabilities.toml: {unplaced}"
    for name, (area, capability, *_) in fmap.checks.items():
        assert area in fmap.areas and capability in fmap.capabilities, (name, area, capability)
    gone = set(fmap.checks) - {name for _, name in _check_functions()}
    assert not gone, f"capabilities.toml places checks that no longer exist: {sorted(gone)}"


def _check(nodeid, outcome, message=None):
    return {"nodeid": nodeid, "outcome": outcome, "message": message, "duration_s": 1.0, "markers": []}


def test_a_cell_is_the_worst_of_its_checks_and_says_why():
    m = features.build([
        _check("suites/test_object.py::test_ranged_get", "passed"),
        _check("suites/test_object.py::test_delete_semantics", "failed", "AssertionError: 409 expected\nmore"),
        _check("suites/test_object.py::test_overwrite_replaces_object", "skipped", "no S3"),
        _check("suites/test_health.py::test_mgr_active", "skipped", "target ceph: no mgr here"),
        _check("suites/test_new_area.py::test_something_new", "passed"),
    ])
    cell = m.cell("object", "semantics")
    assert cell.outcome == "failed" and cell.reason == "AssertionError: 409 expected" and cell.count("passed") == 1
    assert m.cell("health", "availability").reason == "target ceph: no mgr here"
    # A check not yet placed is still shown: in its module's area, under "other".
    assert m.cell("new_area", "other").outcome == "passed"
    assert [a for a, _ in m.areas] == ["health", "object", "new_area"]
    assert [c for c, _ in m.capabilities] == ["availability", "semantics", "other"]
    assert ("block", "block (RBD)") in m.not_run


def test_anchors_are_unique_per_check_and_parameter():
    ids = ["suites/test_object.py::test_put_get_roundtrip[0B]", "suites/test_object.py::test_put_get_roundtrip[1KiB]"]
    anchors = {features.anchor(i) for i in ids}
    assert len(anchors) == 2 and all(a.replace("-", "").isalnum() for a in anchors)
    assert features.worst(["passed", "error", "failed"]) == "error" and features.worst([]) is None
