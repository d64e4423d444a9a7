"""The run's mark on every Kubernetes resource it creates: a label, and names that carry the run id.

Teardown and the sweep select by the label alone, so nothing the run did not create is touched.
"""

import copy

RUN_LABEL = "ceph-conformance/run"
PART_LABEL = "ceph-conformance/part"  # what a resource is for (operator, cluster, apps, ...)


def base_name(run_id):
    """cconf-<run-id>: what every run-named resource starts with (DNS-1123, under 40 characters)."""
    return f"cconf-{run_id}".lower()


def selector(run_id):
    """The label selector of everything the run created."""
    return f"{RUN_LABEL}={run_id}"


def dead_run_selector(live_run_ids):
    """Resources of runs other than these (for the sweep of crashed runs)."""
    if not live_run_ids:
        return RUN_LABEL
    return f"{RUN_LABEL},{RUN_LABEL} notin ({','.join(sorted(live_run_ids))})"


def mark(doc, run_id, part):
    """A copy of doc with the run's labels on it, and on its pod template if it has one (so pods
    are selected too). The original (a document of Rook's release) is left as read."""
    doc = copy.deepcopy(doc)
    labels = {RUN_LABEL: run_id, PART_LABEL: part}
    doc.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    template = doc.get("spec", {}).get("template") if isinstance(doc.get("spec"), dict) else None
    if isinstance(template, dict):
        template.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    return doc


def run_of(doc):
    return (doc.get("metadata", {}).get("labels") or {}).get(RUN_LABEL)
