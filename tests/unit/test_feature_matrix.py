"""The verdict matrix: every check of suites/ placed, cells the worst of their checks."""

import ast
from pathlib import Path

import pytest

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


def test_every_object_check_has_a_group_of_the_summary():
    fmap = features.feature_map()
    ungrouped = [name for name, (area, _) in fmap.checks.items()
                 if area in features.GROUPED_AREAS and name not in fmap.check_groups]
    assert not ungrouped, f"give these a third element (a group of [groups]) in capabilities.toml: {ungrouped}"
    unknown = {name: g for name, g in fmap.check_groups.items() if g not in fmap.groups}
    assert not unknown, f"groups not listed under [groups] in capabilities.toml: {unknown}"


def test_a_place_is_two_or_three_names():
    head = '[capabilities]\nintegrity = "i"\n[areas]\nobject = "o"\n[groups]\nrclone = "r"\n[checks]\n'
    fmap = features.load(head + 'test_a = ["object", "integrity"]\ntest_b = ["object", "integrity", "rclone"]\n')
    assert fmap.checks == {"test_a": ("object", "integrity"), "test_b": ("object", "integrity")}
    assert fmap.group("suites/test_object_clients.py::test_b[x]") == "rclone" and fmap.group("x.py::test_a") is None
    for bad in ('["object"]', '["object", "integrity", "rclone", "more"]', '"object"', '["object", 3]'):
        with pytest.raises(ValueError, match=r"test_c = .*expected \[area, capability\] or \[area, cap"):
            features.load(head + f"test_c = {bad}\n")


def test_the_object_summary_names_each_group_and_what_failed_in_it():
    fmap = features.load(
        '[capabilities]\nintegrity = "i"\nsemantics = "s"\n[areas]\nobject = "o"\nhealth = "h"\n'
        '[groups]\nregistry = "a registry"\nrclone = "rclone"\nversioning = "versions"\n[checks]\n'
        'test_push = ["object", "integrity", "registry"]\ntest_sync = ["object", "integrity", "rclone"]\n'
        'test_v1 = ["object", "semantics", "versioning"]\ntest_v2 = ["object", "semantics", "versioning"]\n'
        'test_v3 = ["object", "semantics", "versioning"]\ntest_mgr = ["health", "integrity"]\n')
    checks = [_check("suites/test_object_semantics.py::test_v1", "passed"),
              _check("suites/test_object_semantics.py::test_v2", "failed", "no version id"),
              _check("suites/test_object_clients.py::test_sync[big]", "passed"),
              _check("suites/test_object_registry.py::test_push", "passed"),
              _check("suites/test_object_semantics.py::test_v3", "error", "cleanup"),
              _check("suites/test_object.py::test_unplaced", "skipped", "no S3"),
              _check("suites/test_health.py::test_mgr", "failed", "no mgr")]
    grouped = features.groups(checks, "object", fmap)
    assert [g.name for g in grouped] == ["registry", "rclone", "versioning", "other"]
    assert features.summary_line(grouped) == \
        "registry: pass, rclone: pass, versioning: 1 failed, 1 error, other: skipped"
    versioning = grouped[2]
    assert versioning.outcome == "error" and versioning.lead["nodeid"].endswith("test_v3")
    assert features.groups(checks, "block", fmap) == []


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


def test_a_known_defect_shows_as_xfailed_above_passed_and_below_a_failure():
    checks = [
        _check("suites/test_object_semantics.py::test_presigned_put_with_plain_http", "passed"),
        _check("suites/test_object_semantics.py::test_presigned_put_is_bound_to_the_headers_it_was_signed_with",
               "xfailed", "known defect of rgw 16.2.15 (fixed in 20.2.4): ..."),
    ]
    cell = features.build(checks).cell("object", "security")
    assert cell.outcome == "xfailed" and cell.reason.startswith("known defect of rgw 16.2.15")
    assert features.worst(["passed", "xfailed"]) == "xfailed" and features.worst(["xfailed", "failed"]) == "failed"
    presigned = next(g for g in features.groups(checks) if g.name == "presigned")
    assert presigned.text == "1 xfailed"
