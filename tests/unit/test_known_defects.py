"""A defect seen on a release it is known in ends the check as xfailed; anywhere else it fails."""

import pytest

from ceph_conformance.known_defects import daemon_versions, fail_unless_known

# `ceph versions` as 16.2.15 and 20.2.4 answer it (the parts read here).
PACIFIC = "ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)"
TENTACLE = "ceph version 20.2.4 (e5c4e0bd1a4a2eaf8e1c4d1fdd6e6c6c0c8d0e0a) tentacle (stable)"


class Versions:
    """The one call fail_unless_known makes of a CephClient."""

    def __init__(self, **by_kind):
        self.by_kind = by_kind

    def ceph_json(self, *args):
        assert args == ("versions",)
        return {kind: {v: 1 for v in versions} for kind, versions in self.by_kind.items()}


def test_versions_are_read_per_daemon_kind():
    ceph = Versions(rgw=[PACIFIC, TENTACLE], osd=[PACIFIC])
    assert daemon_versions(ceph, "rgw") == [(16, 2, 15), (20, 2, 4)]
    assert daemon_versions(ceph, "mds") == []


def test_a_defect_on_a_release_it_is_known_in_is_xfailed_with_what_was_seen():
    with pytest.raises(pytest.xfail.Exception, match=r"^known defect of rgw 16\.2\.15 \(fixed in 20\.2\.4\): "
                                                     r"got HTTP 200"):
        fail_unless_known(Versions(rgw=[PACIFIC]), "rgw", (20, 2, 4), "got HTTP 200")


@pytest.mark.parametrize("rgw", [[TENTACLE], [PACIFIC, TENTACLE], []], ids=["fixed", "mixed", "unknown"])
def test_the_same_defect_fails_on_a_fixed_mixed_or_unknown_release(rgw):
    with pytest.raises(AssertionError, match="^got HTTP 200$"):
        fail_unless_known(Versions(rgw=rgw), "rgw", (20, 2, 4), "got HTTP 200")
