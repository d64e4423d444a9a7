"""rbd-fuse's pool arguments: its default pool is not passed (libfuse >= 3.17 crashes on `-p`)."""

from ceph_conformance.targets.host_clients.rbd import RBD_FUSE_DEFAULT_POOL, pool_args


def test_default_pool_not_passed():
    assert RBD_FUSE_DEFAULT_POOL == "rbd"
    assert pool_args("rbd") == []


def test_other_pool_passed():
    assert pool_args("volumes") == ["-p", "volumes"]
