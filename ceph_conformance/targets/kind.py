"""The kind target: a kind cluster made for the run (a control plane and N workers), loop devices
on this host as the OSDs' disks, then Rook on it. Deleted at the end; --keep-cluster keeps it.

pytest-kind's KindCluster drives kind, used as a library: its fixture pins kind v0.17.0 (too old
for Rook 1.20) and takes no config file, so the kind binary is a pinned recent release built
through the Go module proxy, and the config is the suite's (kind_config.py)."""

import contextlib
import os
import subprocess
from pathlib import Path

import yaml

from ..errors import SetupError
from ..host import loopdev
from ..run import PREFIX
from .rook import preflight
from .rook.kind_config import kind_config, worker_names
from .rook.kind_tool import KIND_VERSION, kind_binary
from .rook.target import RookTarget


class KindTarget(RookTarget):
    name = "kind"
    removes_cluster = True

    def preflight(self):
        super().preflight()
        o = self.options
        _engine_answers(preflight.container_engine())
        kind_binary(check_only=True)
        needed = o.nodes * o.osds_per_node
        preflight.loop_devices(needed, preflight.free_loop_devices(needed), f"--nodes {o.nodes} x --osds-per-node "
                               f"{o.osds_per_node}")

    def cluster_name(self, run_id):
        return f"{PREFIX}-{run_id}"

    def provide_cluster(self, run_dir, progress):
        from pytest_kind import KindCluster

        o = self.options
        name = self.cluster_name(run_dir.name)
        # One worker more than --nodes, without OSDs: kind cannot add nodes later, and the scale-out
        # check puts OSDs on a new host.
        workers = worker_names(name, o.nodes + 1)
        spare = workers[-1]
        nodes = self._loop_devices(run_dir, workers[:-1], progress)  # before kind create: nodes see this /dev
        rook_dirs = {w: run_dir / "var-lib-rook" / w for w in workers}
        for path in rook_dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        config = run_dir / "kind-config.yaml"
        config.write_text(yaml.safe_dump(kind_config(workers, rook_dirs), sort_keys=False))
        kubeconfig = run_dir / "kubeconfig"
        binary = kind_binary(progress=progress)
        progress(f"kind: creating cluster {name} (1 control plane, {o.nodes} workers with OSDs and {spare} "
                 f"without) with kind {KIND_VERSION}")
        with contextlib.chdir(run_dir):  # KindCluster keeps its files under ./.pytest-kind
            cluster = KindCluster(name, kubeconfig=kubeconfig, image=o.kind_node_image, kind_path=binary)
            try:
                cluster.create(config_file=config)
            except subprocess.CalledProcessError as exc:
                raise SetupError(f"kind create cluster {name} failed (exit {exc.returncode}); "
                                 "see kind's output above") from None
        engine = preflight.container_engine()  # here too: bring-up may run in an xdist worker
        for node in workers:
            # Rook's CI does the same: the OSD prepare job needs /sys writable in the node.
            _engine(engine, "exec", node, "mount", "-o", "remount,rw", "/sys")
        where = {"cluster": "kind", "kind_cluster": name, "kind_version": KIND_VERSION, "spare_node": spare,
                 "kind_node_image": o.kind_node_image or f"kind {KIND_VERSION}'s default"}
        return kubeconfig, f"kind-{name}", nodes, where

    def _loop_devices(self, run_dir, workers, progress, count=None, size_bytes=None):
        o = self.options
        loops = run_dir / "loop"
        loops.mkdir(parents=True, exist_ok=True)
        nodes = {}
        for w in workers:
            for _ in range(count or o.osds_per_node):
                n = len(list(loops.glob(f"*-{w}-*.img")))
                backing = loops / f"{PREFIX}-{run_dir.name}-{w}-{n}.img"  # named for the sweep
                loopdev.create_backing_file(backing, size_bytes or int(o.osd_size_gib * 1024**3))
                nodes.setdefault(w, []).append(loopdev.attach(backing))
        progress("kind: OSD devices " + ", ".join(f"{w}: {' '.join(d)}" for w, d in nodes.items()))
        return nodes

    # -- the disruptive checks: the cluster is the run's own ---------------------------------------------
    def disruption_support(self):
        return None

    def _shape(self, progress=print):
        from .rook.shape import ShapeChanger

        return ShapeChanger(self.kube(), self.settings, self.client(), self.options.recovery_timeout, progress)

    def scale_out_plan(self, hosts):
        size = int(self.options.osd_size_gib * 1024**3)
        spare = self.description.get("spare_node")
        plan = [(spare, size)] if spare and spare not in hosts else []
        return plan + [(sorted(hosts)[0], size)]

    def add_osds(self, placements, progress=print):
        additions = []
        for host, size in placements:
            # A new loop device on this host: every kind node sees this host's /dev.
            (device,) = self._loop_devices(self.run_dir, [host], progress, count=1, size_bytes=size)[host]
            additions.append((host, device))
        ids = self._shape(progress).add_osds(additions)
        self._keep_settings()
        return ids

    def fail_node(self, host):
        return self._shape().fail_node(host)

    def remove_node(self, host, progress=print):
        self._shape(progress).remove_node(host)
        self._keep_settings()

    def _keep_settings(self):
        import dataclasses

        self.description["settings"] = dataclasses.asdict(self.settings)
        self._record()

    def release_cluster(self, run_dir, progress):
        from pytest_kind import KindCluster

        name = self.description.get("kind_cluster")
        if not name:
            return
        with contextlib.chdir(run_dir):
            KindCluster(name, kubeconfig=run_dir / "kubeconfig", kind_path=kind_binary()).delete()
        progress(f"kind: cluster {name} deleted")
        # The loop devices under the run directory are detached by the run's sweep (sweep_run).

    def keep_instructions(self, run_dir):
        name = self.description.get("kind_cluster", self.cluster_name(Path(run_dir).name))
        return [f"kind cluster {name} kept: export KUBECONFIG={Path(run_dir) / 'kubeconfig'}",
                f"remove it: {kind_binary()} delete cluster --name {name} && "
                f"python -m ceph_conformance sweep {run_dir}   (detaches its loop devices)"]


def _engine(engine, *args, timeout=60):
    try:
        proc = subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        raise SetupError(f"`{engine} {' '.join(args)}` did not answer within {timeout}s") from None
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"`{engine} {' '.join(args)}` failed: {said}")
    return proc.stdout


def _engine_answers(engine):
    try:
        _engine(engine, "info", timeout=20)
    except SetupError as exc:
        raise SetupError(f"{engine} is installed but its engine does not answer ({exc}); start it "
                         f"(kind runs its nodes as {engine} containers)") from None
