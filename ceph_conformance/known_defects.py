"""Defects a check finds in a Ceph release that a later release fixes.

The check asserts the behaviour as S3 or POSIX define it. When it sees the defect and every daemon
of the kind under test runs a release the defect is known in, the check ends as xfailed with what it
saw (the report's "known defect of this version"), so a run on that release stays readable; on any
other release, or when the version cannot be told, it fails. Like s3-tests' fails_on_rgw, but bound
to the versions measured, so that a fixed release that regresses fails again."""

import re

import pytest

_VERSION = re.compile(r"ceph version (\d+)\.(\d+)\.(\d+)")


def daemon_versions(ceph, kind):
    """The (major, minor, patch) of each distinct version the daemons of kind ("rgw", "osd") run, from
    `ceph versions`; [] when it does not say."""
    said = ceph.ceph_json("versions").get(kind) or {}
    return sorted({tuple(int(n) for n in m.groups()) for m in map(_VERSION.search, said) if m})


def fail_unless_known(ceph, kind, fixed_in, message):
    """Fail the check with message, or xfail it when every daemon of kind runs a release older than
    fixed_in ((20, 2, 4)), where the defect was measured."""
    versions = daemon_versions(ceph, kind)
    if versions and all(v < fixed_in for v in versions):
        shown = ", ".join(".".join(map(str, v)) for v in versions)
        pytest.xfail(f"known defect of {kind} {shown} (fixed in {'.'.join(map(str, fixed_in))}): {message}")
    raise AssertionError(message)
