"""What the Kubernetes targets share: a cluster from somewhere (kind, Vagrant, a kubeconfig), then
the Rook layer on it, and the data plane through the toolbox and Kubernetes objects.

A subclass says where the cluster comes from (provide_cluster, release_cluster); everything after
the kubeconfig is here."""

import dataclasses
import secrets as pysecrets
import time
from pathlib import Path

from ... import records
from ...errors import SetupError, Unsupported
from ...secrets import register
from ..base import Target
from ..runner import stale_runs, sweep_run_dir
from . import cluster, logs, preflight
from .kube import Kube, api_client
from .labels import base_name
from .layer import RookLayer
from .objectstore import RookObjectStore, endpoint_of
from .release import Release
from .settings import RookSettings, default_ceph_image, parse_ceph_config
from .tools import ToolboxCephTools


class RookTarget(Target):
    """Subclasses set deploys_rook (whether the run installs Rook) and implement provide_cluster."""

    deploys_rook = True
    # The run deletes the whole Kubernetes cluster at the end (kind, Vagrant): removing its Rook
    # resources one by one first would only wait for finalizers of a cluster about to go.
    removes_cluster = False

    def __init__(self, options):
        super().__init__(options)
        self._kube = None
        self.settings = None  # RookSettings, once bring-up (or attach) knows them

    # -- where the cluster comes from (subclasses) -------------------------------------------------
    def provide_cluster(self, run_dir, progress):
        """Make or find the Kubernetes cluster: (kubeconfig path, context or None, {node: [devices]},
        a JSON-able description of it)."""
        raise NotImplementedError

    def release_cluster(self, run_dir, progress):
        """Remove the cluster if the run made it (kind, Vagrant); an existing one stays."""

    def preflight(self):
        self.rook = preflight.rook_version(self.options.rook_version)

    # -- bring-up ----------------------------------------------------------------------------------
    def settings_for(self, run_id, nodes):
        o = self.options
        n = len(nodes) if nodes else 3
        return RookSettings(run_id, nodes=nodes or {}, namespace=o.rook_namespace or "rook-ceph",
                            ceph_image=o.ceph_image or default_ceph_image(o.rook_version),
                            rook_version=o.rook_version.lstrip("v"), operator_image=o.rook_operator_image,
                            image_pull_policy=o.image_pull_policy, csi=o.rook_csi, node_address=o.node_address,
                            data_dir_host_path=o.rook_data_dir, extra_ceph_config=parse_ceph_config(o.ceph_config),
                            mon_count=3 if n >= 3 else 1,  # an odd quorum
                            pool_size=min(3, max(1, n - 1)), mute_health=list(o.mute_health),
                            cephfs_client_type=o.cephfs_client)

    def bring_up(self, run_dir, progress):
        self.run_dir = Path(run_dir)
        kubeconfig, context, nodes, where = self.provide_cluster(self.run_dir, progress)
        self.description = {"target": self.name, "kubeconfig": str(kubeconfig), "context": context, **where}
        self._record()  # from here on, teardown can find the cluster even if the rest fails
        kube = Kube(api_client(kubeconfig, context))
        major, minor, git_version = kube.server_version()
        # Bring-up may run in an xdist worker, where preflight (the controller's) did not.
        outside = preflight.kubernetes_supported(preflight.rook_version(self.options.rook_version), major, minor,
                                                 git_version, allow=self.options.allow_unsupported_kubernetes)
        progress(f"rook: Kubernetes {git_version} at {kube.api.configuration.host}")
        if outside:
            progress(f"rook: {outside}")
        release = Release.for_options(self.options.rook_version, self.options.rook_manifests)
        s = self.settings_for(self.run_dir.name, nodes)
        self.description = {"target": self.name, "kubeconfig": str(kubeconfig), "context": context,
                            "kubernetes": git_version, "kubernetes_version": git_version,
                            "rook_version": release.version, "rook_image": s.operator_image or release.image(),
                            "ceph_image": s.ceph_image, "deploys_rook": self.deploys_rook,
                            "settings": dataclasses.asdict(s), "cluster_settings": s.cluster_settings(), **where}
        if outside:
            self.description["kubernetes_outside_rook_range"] = outside
        self._kube, self.settings = kube, s
        self._record()
        layer = self.layer()
        if not self.deploys_rook and not kube.list("ceph.rook.io/v1", "CephCluster", s.namespace):
            raise SetupError(f"--rook-namespace {s.namespace}: no CephCluster there; give the namespace of "
                             "an existing Rook cluster, or pass --deploy-rook to install one")
        passwords = {app: register(pysecrets.token_urlsafe(24)) for app in ("mysql", "minio")}
        try:
            self.description["phases"] = layer.deploy(passwords)
            store = self.object_store()
            for role in cluster.BUCKET_CLAIM_ROLES:
                bucket, _ = store.bucket_claim(role)  # each claim has its bucket and keys
                progress(f"rook: ObjectBucketClaim {role} bound to bucket {bucket}")
        except Exception:
            self.collect_logs("bring-up")
            raise
        self.description["s3_endpoint"] = store.endpoint
        return self.description

    RECORD = "rook-target.json"

    def _record(self):
        """What teardown needs (kubeconfig, the cluster made, the settings), kept as soon as known:
        a bring-up that fails half-way returns no description, but its resources must still go."""
        records.write_record(self.run_dir / self.RECORD, self.description)

    def attach(self, run_dir, description):
        if not description.get("kubeconfig"):
            description = records.read_record(Path(run_dir) / self.RECORD) or description
        super().attach(run_dir, description)
        self._kube = None
        if description.get("settings"):
            self.settings = RookSettings(**description["settings"])

    def kube(self):
        if self._kube is None:
            if not self.description.get("kubeconfig"):
                raise Unsupported(f"target {self.name}: the cluster was not brought up")
            self._kube = Kube(api_client(self.description["kubeconfig"], self.description.get("context")))
        return self._kube

    def layer(self):
        release = Release.for_options(self.options.rook_version, self.options.rook_manifests)
        return RookLayer(self.kube(), release, self.settings, deploy_rook=self.deploys_rook,
                         timeout=self.options.rook_timeout)

    # -- teardown ----------------------------------------------------------------------------------
    def tear_down(self, run_dir, progress, collect_logs=True):
        t0 = time.monotonic()
        problems = []
        if self.description.get("kubeconfig") and self.description.get("settings"):
            if collect_logs:
                self.collect_logs("teardown", progress)
            try:
                problems = [] if self.removes_cluster else self.layer().tear_down()
            except Exception as exc:  # noqa: BLE001 - the cluster itself is still released below
                problems = [f"{type(exc).__name__}: {exc}"]
        self.release_cluster(Path(run_dir), progress)
        if problems:
            raise SetupError("the run's Kubernetes resources were not all removed: " + "; ".join(problems))
        return round(time.monotonic() - t0, 2)

    def sweep_crashed_runs(self, run_root, progress):
        """Runs of this target on this host whose pytest died: remove their Kubernetes resources (and
        the cluster they made), then their run directory (loop devices, kubeconfig). A run whose
        cluster cannot be reached keeps its directory, so a later sweep tries again."""
        for run_dir in stale_runs(run_root):
            record = records.read_record(run_dir / self.RECORD)
            if not record or record.get("target") != self.name:
                continue  # not a run of this target: its own target sweeps it
            crashed = type(self)(self.options)
            crashed.attach(run_dir, record)
            try:
                crashed.tear_down(run_dir, progress, collect_logs=False)
            except Exception as exc:  # noqa: BLE001 - said, and left for a later sweep
                progress(f"could not sweep the crashed run {run_dir.name}: {type(exc).__name__}: {exc}")
                continue
            removed = sweep_run_dir(run_dir)
            progress(f"swept the crashed run {run_dir.name}" + (f": {', '.join(map(str, removed))}" if removed else ""))

    def collect_logs(self, when, progress=print):
        out = Path(self.options.report_dir) / Path(self.run_dir).name / f"rook-{when}"
        try:
            namespaces = sorted({self.settings.namespace, self.settings.apps_namespace})
            # The toolbox may not be there (bring-up failed before it): its commands then fail, said.
            logs.collect(self.kube(), self.tools(), namespaces, out, progress)
        except Exception as exc:  # noqa: BLE001 - logs are help, never the reason a step fails
            progress(f"rook: could not collect logs: {type(exc).__name__}: {exc}")

    # -- the data plane ------------------------------------------------------------------------------
    def tools(self):
        if self.settings is None:
            raise Unsupported(f"target {self.name}: Rook was not deployed (bring-up did not get that far)")
        return ToolboxCephTools(self.kube(), self.settings.namespace, self.layer().toolbox_pod)

    def rbd_pool(self):
        return self.settings.pool

    def object_store(self):
        kube = self.kube()
        service = kube.get("v1", "Service", f"{self.settings.object_store}-external", self.settings.namespace)
        endpoint = endpoint_of(kube.list("v1", "Node"), service, self.settings.node_address)
        return RookObjectStore(kube, self.settings, endpoint, self.client())

    def block_storage(self, scope, namer):
        from .block import RookBlockStorage

        return RookBlockStorage(self.kube(), self.settings, namer, self.client(), timeout=self.options.io_timeout,
                                target_name=self.name, op_timeout=self.options.op_timeout)

    def shared_filesystem(self, scope, namer, directory=None):
        from .sharedfs import RookSharedFilesystem

        return RookSharedFilesystem(self.kube(), self.settings, namer, directory, timeout=self.options.io_timeout,
                                    target_name=self.name)

    def disruption_support(self):
        raise Unsupported(f"target {self.name}: scale-out and node removal run on --target kind only, whose "
                          "cluster is the run's own and can be given new loop devices")

    def cluster_name(self, run_id):
        return base_name(run_id)
