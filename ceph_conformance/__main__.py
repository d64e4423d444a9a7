"""Maintenance commands: `python -m ceph_conformance sweep [--include-kept] [RUN_DIR ...]`."""

import argparse
import sys
from pathlib import Path

from .host.sweep import MARKER, release_clients, sweep_run_dir, sweep_stale
from .targets.local.cluster import stop_run_dir_in_order


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ceph_conformance")
    sub = parser.add_subparsers(dest="command", required=True)
    sweep = sub.add_parser("sweep", help="remove leftovers of crashed (or kept) local runs")
    sweep.add_argument("run_dirs", nargs="*", help="specific run directories (default: all stale ones)")
    sweep.add_argument("--run-root", default="/var/tmp/ceph-conformance")
    sweep.add_argument("--include-kept", action="store_true", help="also runs left up with --keep-cluster")
    args = parser.parse_args(argv)

    if args.run_dirs:
        for run_dir in map(Path, args.run_dirs):
            if not (run_dir / MARKER).exists():
                print(f"{run_dir}: not a run directory of this suite (no {MARKER}); left alone", file=sys.stderr)
                return 2
            removed = release_clients(run_dir) + stop_run_dir_in_order(run_dir) + sweep_run_dir(run_dir)
            print(f"swept {run_dir}: {', '.join(removed) or 'files only'}")
        return 0
    swept = sweep_stale(args.run_root, include_kept=args.include_kept, stop_in_order=stop_run_dir_in_order)
    for run_dir, removed in swept.items():
        print(f"swept {run_dir}: {', '.join(removed)}")
    if not swept:
        print(f"nothing to sweep under {args.run_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
