"""What the Rook layer's waits decide and say, from objects as the API server returns them."""

import pytest

from ceph_conformance.targets.rook import readiness
from ceph_conformance.waits import WaitTimeout, wait_for


def pod(name, phase="Running", ready=True, waiting=None, scheduled=None):
    status = {"phase": phase, "containerStatuses": [{"name": "main", "ready": ready, "state": {"running": {}}}]}
    if waiting:
        status["containerStatuses"][0]["state"] = {"waiting": {"reason": waiting, "message": "back-off 5m0s"}}
    if scheduled:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": scheduled}]
        status.pop("containerStatuses")
    return {"metadata": {"name": name}, "status": status}


def test_a_ready_pod_has_no_problem():
    assert readiness.pod_problem(pod("a")) is None


def test_pods_not_ready_are_named_with_why():
    done, state = readiness.pods_state([
        pod("rook-ceph-mon-a"), pod("rook-ceph-osd-prepare-x", phase="Pending", scheduled="0/3 nodes are available"),
        pod("rook-ceph-mgr-a", ready=False, waiting="CrashLoopBackOff")])
    assert not done
    assert state.startswith("2 of 3 pod(s) not ready")
    assert "rook-ceph-osd-prepare-x: Pending: Unschedulable: 0/3 nodes are available" in state
    assert "rook-ceph-mgr-a: Running: main CrashLoopBackOff (back-off 5m0s)" in state
    assert readiness.pods_state([]) == (False, "no pods yet")


def cephcluster(phase, health=None, conditions=(), message=None):
    status = {"phase": phase, "conditions": [{"type": t, "status": "True", "reason": r} for t, r in conditions]}
    if health:
        status["ceph"] = {"health": health}
    if message:
        status["message"] = message
    return {"metadata": {"name": "c"}, "status": status}


def test_a_progressing_cephcluster_says_its_phase_and_conditions():
    done, state = readiness.rook_resource_state(
        cephcluster("Progressing", conditions=[("Progressing", "ClusterProgressing")], message="Configuring Ceph OSDs"),
        "CephCluster")
    assert not done
    assert state == "CephCluster phase Progressing, Progressing=True (ClusterProgressing), Configuring Ceph OSDs"


def test_a_cephcluster_is_done_when_ready_and_ceph_reports_health():
    assert readiness.rook_resource_state(cephcluster("Ready", "HEALTH_WARN"), "CephCluster")[0]
    assert not readiness.rook_resource_state(cephcluster("Ready"), "CephCluster")[0]  # no health seen yet
    assert readiness.rook_resource_state(None, "CephCluster") == (False, "CephCluster not found")
    assert readiness.rook_resource_state({"metadata": {}, "status": {"phase": "Ready"}}, "CephBlockPool")[0]


def test_deployments_claims_and_crds():
    dep = {"metadata": {"name": "rook-ceph-operator"}, "spec": {"replicas": 1}, "status": {}}
    assert readiness.deployment_state(dep) == (False, "Deployment rook-ceph-operator: 0/1 ready")
    dep["status"]["readyReplicas"] = 1
    assert readiness.deployment_state(dep)[0]
    pvc = {"metadata": {"name": "data"}, "status": {"phase": "Pending"}}
    assert readiness.claim_state(pvc) == (False, "PersistentVolumeClaim data Pending")
    assert readiness.claim_state({"metadata": {"name": "b"}, "status": {"phase": "Bound"}}, "ObjectBucketClaim")[0]
    crd = {"metadata": {"name": "cephclusters.ceph.rook.io"}, "status": {"conditions": [
        {"type": "NamesAccepted", "status": "True"}]}}
    assert readiness.crd_state(crd) == (False, "CRD cephclusters.ceph.rook.io not established")
    crd["status"]["conditions"].append({"type": "Established", "status": "True"})
    assert readiness.crd_state(crd)[0]
    assert readiness.combine([(True, "a"), (False, "b"), (False, "c")]) == (False, "b; c")
    assert readiness.combine([(True, "a")]) == (True, "all ready")


def test_a_wait_that_runs_out_reports_the_cluster_it_last_saw():
    states = iter([cephcluster("Progressing", message="Configuring Ceph Mons"),
                   cephcluster("Progressing", message="Configuring Ceph OSDs")])
    last = {}

    def probe():
        last["obj"] = next(states, last.get("obj"))
        return readiness.rook_resource_state(last["obj"], "CephCluster")

    with pytest.raises(WaitTimeout) as err:
        wait_for(probe, what="CephCluster c to be Ready", timeout=0.6, interval=0.1)
    assert "CephCluster c to be Ready: not reached after" in str(err.value)
    assert str(err.value).endswith("last seen: CephCluster phase Progressing, Configuring Ceph OSDs")
