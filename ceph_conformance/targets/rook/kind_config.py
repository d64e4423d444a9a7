"""The suite's kind cluster config: one control plane, N workers, each worker seeing this host's
/dev (the loop devices made before `kind create`) and /run/udev, with its own /var/lib/rook."""

KIND_API = "kind.x-k8s.io/v1alpha4"


def worker_names(cluster, count):
    """The node names kind gives workers: <cluster>-worker, <cluster>-worker2, ..."""
    return [f"{cluster}-worker" + (str(i) if i > 1 else "") for i in range(1, count + 1)]


def kind_config(workers, rook_dirs):
    """rook_dirs: {worker: host directory} mounted at /var/lib/rook (Rook's dataDirHostPath): nodes
    on one host must not share their mons' and OSDs' state."""
    def mounts(worker):
        return [{"hostPath": "/dev", "containerPath": "/dev", "propagation": "HostToContainer"},
                {"hostPath": "/run/udev", "containerPath": "/run/udev", "propagation": "HostToContainer"},
                {"hostPath": str(rook_dirs[worker]), "containerPath": "/var/lib/rook"}]

    return {"kind": "Cluster", "apiVersion": KIND_API,
            "nodes": [{"role": "control-plane"}] + [{"role": "worker", "extraMounts": mounts(w)} for w in workers]}
