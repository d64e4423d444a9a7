"""What the sweep of an existing cluster removes (cleanup.py), each kind through this host's clients:
S3 users by radosgw-admin, RBD images through rbd, CephFS directories through an admin mount of the
root, cephx users."""

from .. import cluster_runs
from ..cleanup import Kind
from ..clients.rgw_admin import RgwAdmin
from ..errors import CommandError
from .host_clients.cephfs import AdminRoot
from .host_clients.rbd import RbdVolume


def cluster_kinds(ceph, rbd_pool, work_dir, cephfs=None):
    admin = RgwAdmin(ceph)
    kinds = [
        Kind("S3 user", lambda: admin.users_with_prefix(cluster_runs.PREFIX + "-"), _checked(admin.remove_user)),
        Kind("RBD image", lambda: _images(ceph, rbd_pool),
             lambda image: RbdVolume(ceph, rbd_pool, image, work_dir).remove()),
    ]
    if cephfs:
        kinds.append(_cephfs_kind(ceph, cephfs, work_dir))
    # cephx users last: the CephFS directories above are removed while their clients' keys exist.
    kinds.append(Kind("cephx user", lambda: _auth_entities(ceph), lambda name: ceph.ceph("auth", "rm", name)))
    return kinds


def _checked(remove_user):
    # RgwAdmin.remove_user reports a failure as text (the fixtures add it to their own messages);
    # the sweep must count it as a failure, never as swept.
    def remove(uid):
        problem = remove_user(uid)
        if problem:
            raise CommandError(["radosgw-admin", "user", "rm", "--uid", uid], None, problem)
    return remove


def _images(ceph, pool):
    if pool not in ceph.ceph_json("osd", "pool", "ls"):
        return []
    # Clones ("<origin>-clone") sort after their origin: reversed, they go first.
    return sorted((i for i in ceph.tool_json("rbd", "ls", pool) if i.startswith(cluster_runs.PREFIX + "-")),
                  reverse=True)


def _auth_entities(ceph):
    entities = [e["entity"] for e in ceph.ceph_json("auth", "ls")["auth_dump"]]
    return [e for e in entities if e.startswith(f"client.{cluster_runs.PREFIX}-")]


def _cephfs_kind(ceph, fs_name, work_dir):
    """The runs' top-level CephFS directories, through one admin mount of the root for the sweep."""
    mounted = []

    def root():
        if not mounted:
            mounted.append(AdminRoot(ceph, fs_name, work_dir).__enter__())
        return mounted[0]

    def close():
        while mounted:
            mounted.pop().__exit__(None, None, None)

    return Kind("CephFS directory", lambda: root().names(), lambda name: root().remove(name), close)
