"""The safety net on a cluster the suite did not create: remove what runs of the suite left.

Checks remove what they create; this sweep catches what a crashed check, worker or whole run
left: S3 users (with their buckets), RBD images (clones before origins), CephFS directories and
cephx client users. It removes a run's resources only when they carry the `cconf-<run-id>-`
prefix and the run is this one or provably dead (cluster_runs), never a live run's. The kinds of
resources, and how each is removed, come from the target (targets/existing_sweep.py).
"""

from dataclasses import dataclass, field

from . import cluster_runs
from .errors import CommandError


@dataclass
class SweepReport:
    removed: list = field(default_factory=list)  # "S3 user cconf-..."
    failed: list = field(default_factory=list)  # "S3 user cconf-...: why"
    planned: list = field(default_factory=list)  # what a dry run would remove
    live: dict = field(default_factory=dict)  # run id -> why it is left alone

    @property
    def ok(self):
        return not self.failed


@dataclass
class Kind:
    """One kind of resource: how to list every name with the suite's prefix, how to remove one."""

    name: str
    find: object
    remove: object
    close: object = None


def sweep_cluster(ceph, kinds, progress, own_run_id=None, dry_run=False):
    """Remove the resources of this run (own_run_id) and of provably dead runs."""
    try:
        return _sweep(ceph, kinds, progress, own_run_id, dry_run)
    finally:
        for kind in kinds:
            if kind.close:
                kind.close()


def _sweep(ceph, kinds, progress, own_run_id, dry_run):
    report = SweepReport()
    try:
        records = cluster_runs.records(ceph)
    except CommandError as exc:
        progress(f"could not read the runs' records ({exc}); sweeping only this run's resources")
        records = None
    found = {}  # run id -> [(kind, name)]
    for kind in kinds:
        try:
            names = kind.find()
        except Exception as exc:  # noqa: BLE001 - any kind that cannot be listed is reported, not fatal
            report.failed.append(f"could not list {kind.name}s ({exc})")
            continue
        for name in names:
            run_id = cluster_runs.run_id_of(name)
            if run_id:
                found.setdefault(run_id, []).append((kind, name))
    for run_id in records or {}:
        found.setdefault(run_id, [])
    for run_id in sorted(found):
        if run_id != own_run_id:
            if records is None:
                report.live[run_id] = "the runs' records could not be read"
                continue
            reason = cluster_runs.dead_reason(run_id, records.get(run_id))
            if reason is None:
                report.live[run_id] = "alive"
                continue
            progress(f"run {run_id} is over ({reason}): sweeping what it left")
        failures = len(report.failed)
        for kind, name in found[run_id]:
            if dry_run:
                report.planned.append(f"{kind.name} {name}")
                continue
            try:
                kind.remove(name)
                report.removed.append(f"{kind.name} {name}")
            except (CommandError, OSError, ValueError) as exc:
                report.failed.append(f"{kind.name} {name}: {exc}")
        # The record goes last, and only when everything else went: else a later sweep retries.
        if not dry_run and records and run_id in records and len(report.failed) == failures:
            try:
                cluster_runs.remove(ceph, run_id)
            except CommandError as exc:
                report.failed.append(f"run record {run_id}: {exc}")
    for item in report.removed:
        progress(f"swept {item}")
    for item in report.failed:
        progress(f"could not sweep {item}")
    return report
