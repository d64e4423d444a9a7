"""`python -m ceph_conformance testbed up|down|status`: the test bed from the command line."""

import sys

from ..errors import SetupError
from .bed import DEFAULT_ROOT, TestBed


def add_parser(sub):
    p = sub.add_parser("testbed", help="a real Kubernetes API on this host (etcd + kube-apiserver, built from source)")
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--nodes", type=int, default=0,
                   help="nodes (rung 2: controller-manager, scheduler, and per node containerd + kubelet); default 0")
    p.add_argument("--dir", default=str(DEFAULT_ROOT / "default"),
                   help=f"the test bed's directory (default {DEFAULT_ROOT / 'default'})")


def run(args):
    bed = TestBed(args.dir)
    try:
        if args.action == "up":
            bed.up(progress=lambda m: print(f"[testbed] {m}", flush=True), nodes=args.nodes, kept=True)
            print(f"export KUBECONFIG={bed.kubeconfig}")
        elif args.action == "down":
            bed.down(progress=lambda m: print(f"[testbed] {m}", flush=True))
        else:
            print("\n".join(bed.status()))
            return 0 if bed.is_up() else 1
    except SetupError as exc:
        print(f"testbed {args.action}: {exc}", file=sys.stderr)
        return 4
    return 0
