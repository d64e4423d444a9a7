"""Everything the Rook layer applies, in order: phases of Kubernetes documents (Python objects)."""

from dataclasses import dataclass

import yaml

from . import apps, cluster, operator


@dataclass
class Phase:
    name: str
    documents: list
    wait_for: str  # what the deploy waits for after applying it (deploy.py)


def plan(release, s, passwords, deploy_rook=True):
    """The phases of one run. deploy_rook False: Rook and a CephCluster are already in s.namespace,
    and the run adds only its own, run-named resources."""
    phases = []
    if deploy_rook:
        phases.append(Phase("operator", operator.operator_documents(release, s), "operator"))
        phases.append(Phase("cluster", cluster.cluster_documents(s), "cluster"))
    phases.append(Phase("tools", [operator.toolbox(release, s)], "tools"))
    phases.append(Phase("storage", cluster.storage(s), "storage"))
    claims = [cluster.bucket_claim(s, role) for role in cluster.BUCKET_CLAIM_ROLES]
    phases.append(Phase("apps", apps.workloads(s, passwords) + claims, "apps"))
    return phases


def dump(documents):
    """YAML text of documents, for --keep-cluster's record and for people reading what was applied."""
    return yaml.safe_dump_all(documents, sort_keys=False)
