"""Deploying and removing the run's Rook resources: apply each phase, then wait (bounded) for
what it makes to be ready, saying what was last seen; remove by the run's label, in order."""

import time

from ...errors import SetupError
from ...waits import WaitTimeout, wait_for
from . import readiness
from .labels import PART_LABEL, selector
from .manifests import plan

CEPH = "ceph.rook.io/v1"
# The run's Rook resources, removed before the StorageClasses and the CephCluster: users and
# the stores they live in last, so Rook can still purge what is inside.
RUN_ROOK_KINDS = (("ceph.rook.io/v1", "CephObjectStoreUser"), ("ceph.rook.io/v1", "CephObjectStore"),
                  ("ceph.rook.io/v1", "CephFilesystemSubVolumeGroup"), ("ceph.rook.io/v1", "CephFilesystem"),
                  ("ceph.rook.io/v1", "CephBlockPool"), ("apps/v1", "Deployment"), ("v1", "Service"))

# What the run adds to a Rook cluster (labels.PART_LABEL), removed by teardown before Rook itself.
RUN_PARTS = ("tools", "block", "sharedfs", "object")


def run_parts_selector(run_id):
    """What the run added to Rook's namespace and the cluster scope (not Rook's own install)."""
    return f"{selector(run_id)},{PART_LABEL} in ({','.join(RUN_PARTS)})"


class RookLayer:
    def __init__(self, kube, release, settings, *, deploy_rook, timeout=1200.0, progress=print, interval=5.0):
        """interval: seconds between the probes of a wait (Rook's daemons take minutes; a test of the
        layer's mechanics on a bare API server polls faster)."""
        self.interval = interval
        self.kube = kube
        self.release = release
        self.s = settings
        self.deploy_rook = deploy_rook
        self.timeout = timeout
        self.progress = progress

    def phases(self, passwords):
        return plan(self.release, self.s, passwords, deploy_rook=self.deploy_rook)

    # -- deploy -------------------------------------------------------------------------------------
    def deploy(self, passwords):
        """Apply every phase and wait for it. Returns {phase: seconds}."""
        timings = {}
        for phase in self.phases(passwords):
            t0 = time.monotonic()
            self.progress(f"rook: applying {phase.name} ({len(phase.documents)} resources)")
            self._apply(phase.documents)
            getattr(self, f"_wait_{phase.wait_for}")(phase.documents)
            timings[phase.name] = round(time.monotonic() - t0, 1)
        return timings

    def _apply(self, docs):
        crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
        for doc in crds:
            self.kube.apply(doc)
        if crds:  # custom resources of a CRD can be applied once it is established
            self._wait(lambda: readiness.combine(
                [readiness.crd_state(self.kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                                                   d["metadata"]["name"])) for d in crds]),
                f"Rook's {len(crds)} CRDs to be established", 120)
        for doc in docs:
            if doc["kind"] != "CustomResourceDefinition":
                self.kube.apply(doc)

    def _wait(self, probe, what, timeout=None):
        try:
            return wait_for(probe, what=what, timeout=timeout or self.timeout, interval=self.interval)
        except WaitTimeout as exc:
            raise SetupError(str(exc)) from None

    def _wait_operator(self, docs):
        ns = self.s.operator_namespace
        self._wait(lambda: readiness.deployment_state(
            self.kube.get("apps/v1", "Deployment", "rook-ceph-operator", ns)), "Rook's operator to be ready", 600)

    def _wait_cluster(self, docs):
        def probe():
            done, state = readiness.rook_resource_state(
                self.kube.get(CEPH, "CephCluster", self.s.cluster_name, self.s.namespace), "CephCluster")
            if done:
                return True, state
            # Rook's daemons (mons, mgr, OSDs and their prepare jobs) carry rook_cluster=<namespace>.
            daemons = self.kube.list("v1", "Pod", self.s.namespace, f"rook_cluster={self.s.namespace}")
            _, pods = readiness.pods_state(daemons)
            return False, f"{state}; {pods}"

        self._wait(probe, f"CephCluster {self.s.cluster_name} to be Ready")

    def _wait_tools(self, docs):
        self._wait(lambda: readiness.deployment_state(self.kube.get("apps/v1", "Deployment", self.s.toolbox,
                                                                    self.s.namespace)), "the toolbox to be ready", 600)

    def _wait_storage(self, docs):
        kinds = [d for d in docs if d["apiVersion"] == CEPH]

        def probe():
            return readiness.combine([readiness.rook_resource_state(
                self.kube.get(CEPH, d["kind"], d["metadata"]["name"], self.s.namespace), d["kind"])
                for d in kinds if d["kind"] != "CephFilesystemSubVolumeGroup"])

        self._wait(probe, "the run's block pool, filesystem and object store to be Ready")

    def _wait_apps(self, docs):
        ns = self.s.apps_namespace

        def probe():
            states = [readiness.claim_state(self.kube.get("v1", "PersistentVolumeClaim", d["metadata"]["name"], ns))
                      for d in docs if d["kind"] == "PersistentVolumeClaim"]
            states += [readiness.claim_state(self.kube.get("objectbucket.io/v1alpha1", "ObjectBucketClaim",
                                                           d["metadata"]["name"], ns), "ObjectBucketClaim")
                       for d in docs if d["kind"] == "ObjectBucketClaim"]
            states += [readiness.deployment_state(self.kube.get("apps/v1", "Deployment", d["metadata"]["name"], ns))
                       for d in docs if d["kind"] == "Deployment"]
            states.append(readiness.pods_state(self.kube.list("v1", "Pod", ns, selector(self.s.run_id))))
            return readiness.combine(states)

        self._wait(probe, "the run's volumes, bucket claims and apps to be ready")

    # -- pods of the run ---------------------------------------------------------------------------
    def toolbox_pod(self):
        """The name of a running, ready toolbox pod; SetupError if there is none."""
        pods = self.kube.list("v1", "Pod", self.s.namespace, f"app={self.s.toolbox}")
        ready = [p["metadata"]["name"] for p in pods if readiness.pod_problem(p) is None]
        if not ready:
            _, state = readiness.pods_state(pods)
            raise SetupError(f"no ready toolbox pod ({self.s.toolbox}) in {self.s.namespace}: {state}")
        return ready[0]

    # -- teardown ----------------------------------------------------------------------------------
    def tear_down(self):
        """Remove what the run created, by its label; returns problems (empty: all gone)."""
        problems = []
        sel = selector(self.s.run_id)
        # The run's own resources in Rook's namespace: not the operator's (also labelled with the run
        # when it installed Rook), which must outlive the CephCluster to remove it.
        own = run_parts_selector(self.s.run_id)

        def gone(what, lister, timeout=300):
            try:
                wait_for(lambda: (not lister(), f"{len(lister())} left"), what=what, timeout=timeout,
                         interval=self.interval)
            except WaitTimeout as exc:
                problems.append(str(exc))

        # The run's namespace holds its PVCs, apps, client pods and bucket claims.
        ns = self.s.apps_namespace
        if self.kube.delete("v1", "Namespace", ns):
            gone(f"namespace {ns} to be deleted", lambda: [n for n in [self.kube.get("v1", "Namespace", ns)] if n])
        for api_version, kind in RUN_ROOK_KINDS:
            for obj in self.kube.list(api_version, kind, self.s.namespace, own):
                self.kube.delete(api_version, kind, obj["metadata"]["name"], self.s.namespace)
            gone(f"the run's {kind}s to be deleted",
                 lambda a=api_version, k=kind: self.kube.list(a, k, self.s.namespace, own))
        for sc in self.kube.list("storage.k8s.io/v1", "StorageClass", None, own):
            self.kube.delete("storage.k8s.io/v1", "StorageClass", sc["metadata"]["name"])
        # A foreground delete returns before the object is gone (the garbage collector finishes it).
        gone("the run's StorageClasses to be deleted", lambda: self.kube.list("storage.k8s.io/v1", "StorageClass",
                                                                                None, own))
        if self.deploy_rook:
            problems += self._remove_rook(sel, gone)
        return problems

    def _remove_rook(self, sel, gone):
        """Rook as the run installed it: the CephCluster (its data on the run's devices wiped), then
        the operator's resources in the reverse order of the install."""
        cc = self.kube.get(CEPH, "CephCluster", self.s.cluster_name, self.s.namespace)
        if cc is not None:
            # A merge patch, not an apply: applied by the same field manager, a partial object would
            # drop every field of the spec it leaves out.
            self.kube.merge_patch(CEPH, "CephCluster", self.s.cluster_name, self.s.namespace,
                                  {"spec": {"cleanupPolicy": {"confirmation": "yes-really-destroy-data"}}})
            self.kube.delete(CEPH, "CephCluster", self.s.cluster_name, self.s.namespace)
            gone("the CephCluster to be deleted",
                 lambda: self.kube.list(CEPH, "CephCluster", self.s.namespace, sel), timeout=600)
        for doc in reversed(self.phases({"mysql": "-", "minio": "-"})[0].documents):
            meta = doc["metadata"]
            self.kube.delete(doc["apiVersion"], doc["kind"], meta["name"], meta.get("namespace"))
        return []
