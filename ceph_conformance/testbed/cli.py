"""`python -m ceph_conformance testbed up|down|status`: the test bed from the command line."""

import sys

from ..errors import SetupError
from .bed import DEFAULT_ROOT, TestBed


def add_parser(sub):
    p = sub.add_parser("testbed", help="a real Kubernetes API on this host (etcd + kube-apiserver, built from source)")
    p.add_argument("action", choices=("up", "down", "status", "rook"),
                   help="rook: a 3-node bed, Rook deployed on it through --target kubeconfig, the suite run "
                        "with the pytest arguments after --, everything torn down")
    p.add_argument("--rook-version", default="1.12.11", help="rook: the Rook release (one that builds here)")
    p.add_argument("pytest_args", nargs="*", help="rook: arguments for pytest (after --)")
    p.add_argument("--nodes", type=int, default=0,
                   help="nodes (rung 2: controller-manager, scheduler, and per node containerd + kubelet); default 0")
    p.add_argument("--dir", default=str(DEFAULT_ROOT / "default"),
                   help=f"the test bed's directory (default {DEFAULT_ROOT / 'default'})")


def run(args):
    if args.action == "rook":
        from .rook_run import run as rook_run

        try:
            return rook_run(args.pytest_args, args.rook_version,
                            progress=lambda m: print(f"[testbed] {m}", flush=True))
        except SetupError as exc:
            print(f"testbed rook: {exc}", file=sys.stderr)
            return 4
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
