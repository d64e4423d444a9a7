"""What "ready" means for what the Rook layer applies, and what to say when it is not.

Each probe reads objects and returns (done, state); the state is what a bounded wait reports when
it runs out: the CephCluster's phase and conditions, the pods that are not ready and why.
"""

ROOK_READY = ("Ready", "Connected")  # Connected: an external cluster's resources


def pod_problem(pod):
    """None if the pod is running and ready; else one short reason ("Pending: Unschedulable: ...")."""
    status = pod.get("status") or {}
    phase = status.get("phase", "?")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"{phase}: {cond.get('reason', '')}: {(cond.get('message') or '')[:160]}".rstrip(": ")
    if phase == "Succeeded":
        return None
    waiting = []
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        if "waiting" in state:
            w = state["waiting"] or {}
            waiting.append(f"{cs['name']} {w.get('reason', 'waiting')}" + (f" ({w['message'][:120]})"
                                                                           if w.get("message") else ""))
        elif "terminated" in state and not cs.get("ready"):
            t = state["terminated"] or {}
            waiting.append(f"{cs['name']} terminated {t.get('reason', '')} exit {t.get('exitCode')}")
        elif not cs.get("ready") and phase == "Running":
            waiting.append(f"{cs['name']} not ready")
    if phase == "Running" and not waiting:
        return None
    return f"{phase}" + (f": {'; '.join(waiting)}" if waiting else "")


def pods_state(pods):
    """(all ready, state) of a list of pods."""
    if not pods:
        return False, "no pods yet"
    problems = [(p["metadata"]["name"], pod_problem(p)) for p in pods]
    bad = [f"{name}: {why}" for name, why in problems if why]
    if not bad:
        return True, f"{len(pods)} pod(s) ready"
    more = " ..." if len(bad) > 6 else ""
    return False, f"{len(bad)} of {len(pods)} pod(s) not ready: " + "; ".join(bad[:6]) + more


def rook_resource_state(obj, kind):
    """(done, state) of a Rook custom resource from its status: phase, and conditions or message."""
    if obj is None:
        return False, f"{kind} not found"
    status = obj.get("status") or {}
    phase = status.get("phase") or "no status yet"
    said = status.get("message") or ""
    conditions = [f"{c.get('type')}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else "")
                  for c in status.get("conditions") or [] if c.get("status") == "True"]
    health = (status.get("ceph") or {}).get("health")
    parts = [f"{kind} phase {phase}"] + ([f"ceph {health}"] if health else []) + conditions[-3:]
    if said:
        parts.append(said[:200])
    done = phase in ROOK_READY
    if kind == "CephCluster":
        # Ready is Rook's own verdict that the daemons are up; the suite's gate checks health after.
        done = done and health is not None
    return done, ", ".join(parts)


def deployment_state(dep):
    if dep is None:
        return False, "Deployment not found"
    want = (dep.get("spec") or {}).get("replicas", 1)
    status = dep.get("status") or {}
    ready = status.get("readyReplicas") or 0
    name = dep["metadata"]["name"]
    return ready >= want, f"Deployment {name}: {ready}/{want} ready"


def claim_state(obj, kind="PersistentVolumeClaim"):
    """PVCs and ObjectBucketClaims: Bound is done."""
    if obj is None:
        return False, f"{kind} not found"
    phase = (obj.get("status") or {}).get("phase") or "no status yet"
    return phase == "Bound", f"{kind} {obj['metadata']['name']} {phase}"


def crd_state(crd):
    if crd is None:
        return False, "CRD not found"
    established = any(c.get("type") == "Established" and c.get("status") == "True"
                      for c in (crd.get("status") or {}).get("conditions") or [])
    return established, f"CRD {crd['metadata']['name']} " + ("established" if established else "not established")


def combine(states):
    """(all done, the not-done states joined) of several (done, state)."""
    pending = [state for done, state in states if not done]
    return not pending, "; ".join(pending) if pending else "all ready"
