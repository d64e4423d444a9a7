"""What the break-before plugins (-p) share: once the run's cluster is up, before the first check
(and so before the HEALTH_OK gate), do something to it exactly once for the whole run, in whichever
xdist worker gets there first (the run's session records, behind their file lock)."""

from ceph_conformance.plugin import context
from ceph_conformance.targets.local.cluster import LocalCluster


def once_before_checks(item, record, action):
    """action(LocalCluster of the run) once per run; its JSON-able return is kept as record."""
    ctx = context(item.config)
    if ctx is not None and ctx.is_check(item):
        session = ctx.session()
        if session.cluster()["ok"]:
            session.once(record, 300, lambda: action(LocalCluster(ctx.run.run_dir / "cluster")))
