"""The run's safety net on a cluster it did not create: remove whatever carries the run's prefix.

Checks remove what they create; this sweep catches what a crashed check or worker left: S3 users
(with their buckets), RBD images (clones before origins, snapshots first) and cephx client users.
"""

from .clients.block import RbdVolume
from .clients.rgw_admin import RgwAdmin
from .errors import CommandError


def sweep_run_resources(ceph, prefix, rbd_pool, work_dir, progress):
    swept = []
    admin = RgwAdmin(ceph)
    steps = [
        ("S3 user", lambda: admin.users_with_prefix(prefix), admin.remove_user),
        ("RBD image", lambda: _images(ceph, rbd_pool, prefix),
         lambda image: RbdVolume(ceph, rbd_pool, image, work_dir).remove()),
        ("cephx user", lambda: _auth_entities(ceph, prefix), lambda name: ceph.ceph("auth", "rm", name)),
    ]
    for kind, find, remove in steps:
        try:
            found = find()
        except CommandError as exc:
            progress(f"could not list {kind}s to sweep ({exc}); those named {prefix}* may remain")
            continue
        for name in found:
            try:
                remove(name)
                swept.append(f"{kind} {name}")
            except CommandError as exc:
                progress(f"could not remove {kind} {name}: {exc}")
    for item in swept:
        progress(f"swept {item}")
    return swept


def _images(ceph, pool, prefix):
    if pool not in ceph.ceph_json("osd", "pool", "ls"):
        return []
    # Clones ("<origin>-clone") sort after their origin: reversed, they go first.
    return sorted((i for i in ceph.tool_json("rbd", "ls", pool) if i.startswith(prefix)), reverse=True)


def _auth_entities(ceph, prefix):
    entities = [e["entity"] for e in ceph.ceph_json("auth", "ls")["auth_dump"]]
    return [e for e in entities if e.startswith("client." + prefix)]
