"""Rook's release for the manifest tests: fetched through the Go module proxy into the cache
outside the repository on first use, reused after."""

import pytest

from ceph_conformance.targets.rook import release as rook_release
from ceph_conformance.targets.rook.settings import RookSettings

# Rook v1.20.6 supports Kubernetes 1.31 to 1.36 (its documentation; the nightly matrix's range).
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35", "1.36")
RUN_ID = "20261201-080433-ab12"
PASSWORDS = {"mysql": "mysql-pass-for-tests-0123", "minio": "minio-pass-for-tests-0123"}


@pytest.fixture(scope="session")
def release():
    return rook_release.Release.for_options(rook_release.DEFAULT_VERSION)


@pytest.fixture(scope="session")
def schemas(release):
    return release.crd_schemas()


def three_nodes(**kw):
    return RookSettings(RUN_ID, nodes={"cconf-worker": ["/dev/loop20"], "cconf-worker2": ["/dev/loop21"],
                                       "cconf-worker3": ["/dev/loop22"]}, **kw)


# Option sets as users give them: the kind default, a one-node laptop, a bigger cluster with mutes
# and its own images, and a run inside an existing Rook (another namespace, no operator install).
OPTION_SETS = {
    "kind-default": (three_nodes, {}, True),
    "one-node": (lambda: RookSettings(RUN_ID, nodes={"laptop": ["/dev/loop20", "/dev/loop21"]}, mon_count=1,
                                      pool_size=1, cephfs_client_type="fuse", s3_node_port=30080), {}, True),
    "four-by-two": (lambda: RookSettings(RUN_ID, nodes={f"k8s-{i}": ["/dev/loop1", "/dev/loop2"] for i in range(4)},
                                         mgr_count=2, mute_health=["MON_DISK_LOW"], fs_clients=3,
                                         ceph_image="quay.io/ceph/ceph:v19.2.3", block_size_gib=8), {}, True),
    "existing-rook": (lambda: RookSettings(RUN_ID, nodes={"n1": ["/dev/sdb"]}, namespace="storage"), {}, False),
}
