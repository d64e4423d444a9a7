"""`python -m ceph_conformance`: the suite's helper commands (sweeps, the matrix page, images, the test bed).

The checks themselves run through pytest (`make conformance`, or `pytest` in the venv); these commands
serve the runs: `--help` lists them, each with one line.
"""

import argparse
import sys
from pathlib import Path

from .host.sweep import MARKER, release_clients, sweep_run_dir, sweep_stale
from .report import catalogue
from .targets.local.cluster import stop_run_dir_in_order
from .testbed import cli as testbed_cli

DESCRIPTION = """\
ceph-conformance: a pytest conformance suite for Ceph storage (a local cluster of real daemons,
an existing cluster, or Rook on Kubernetes), with an HTML report of what works.

The suite itself runs through pytest: `make conformance` (or `.venv/bin/pytest -m object`, ...).
This command holds the helpers around the runs."""

EPILOG = "Run `python -m ceph_conformance COMMAND --help` for a command's options. The docs: docs/ (mkdocs)."


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Wide, with room for the longest command's name, so each description stays on its one line."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=120)

    def add_argument(self, action):
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            self._action_max_length += 2  # argparse measures the commands without their indent


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ceph_conformance", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=_Formatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sweep = sub.add_parser("sweep", help="remove leftovers of crashed (or kept) local runs")
    sweep.add_argument("run_dirs", nargs="*", help="specific run directories (default: all stale ones)")
    sweep.add_argument("--run-root", default="/var/tmp/ceph-conformance")
    sweep.add_argument("--include-kept", action="store_true", help="also runs left up with --keep-cluster")
    add_sweep_cluster(sub)
    add_rook_manifests(sub)
    testbed_cli.add_parser(sub)
    add_matrix(sub)
    add_ceph_image(sub)
    add_rook_image(sub)
    add_rook_on_testbed(sub)
    catalogue.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command is None:  # no command: say what the tool is, not an argparse error
        parser.print_help()
        return 0
    if args.command == "catalogue":
        return catalogue.run(args)
    if args.command == "ceph-image":
        return ceph_image_command(args)
    if args.command == "rook-image":
        return rook_image_command(args)
    if args.command == "rook-on-testbed":
        return rook_on_testbed_command(args)
    if args.command == "testbed":
        return testbed_cli.run(args)
    if args.command == "sweep-cluster":
        return sweep_cluster_command(args)
    if args.command == "rook-manifests":
        return rook_manifests_command(args)
    if args.command == "matrix":
        return matrix_command(args)

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


def add_sweep_cluster(sub):
    p = sub.add_parser("sweep-cluster", help="remove what dead runs left on an existing cluster (--target ceph)")
    p.add_argument("--ceph-conf", required=True, help="the cluster's ceph.conf")
    p.add_argument("--ceph-keyring", default=None, help="an admin keyring")
    p.add_argument("--rbd-pool", default="rbd", help="pool of the block checks' images (default rbd)")
    p.add_argument("--cephfs", default=None, help="CephFS filesystem of the sharedfs checks (default: the first)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")


def add_ceph_image(sub):
    from .targets.local.cephimage import RELEASES

    p = sub.add_parser("ceph-image", help="build a Ceph image from a Debian release's packages, for --ceph-image")
    p.add_argument("--release", required=True, choices=sorted(RELEASES),
                   help="Debian release: " + ", ".join(f"{r} (Ceph {v})" for r, v in RELEASES.items()))


def ceph_image_command(args):
    from .errors import SetupError
    from .targets.local.cephimage import ensure_ceph_image

    try:
        name = ensure_ceph_image(args.release, progress=lambda msg: print(msg, flush=True))
    except SetupError as exc:
        print(f"ceph-image: {exc}", file=sys.stderr)
        return 1
    print(name)
    return 0


def add_rook_image(sub):
    p = sub.add_parser("rook-image", help="build Rook's operator image: its rook binary from the Go module proxy on "
                                          "a Ceph image of this project's, into podman's storage and an OCI archive")
    p.add_argument("--rook-version", default="1.12.11", help="a Rook release that builds here (default 1.12.11)")


def add_rook_on_testbed(sub):
    p = sub.add_parser("rook-on-testbed", help="a 3-node test bed, Rook deployed on it through --target kubeconfig, "
                                               "the suite run with the pytest arguments after --, all torn down")
    p.add_argument("--rook-version", default="1.12.11", help="a Rook release that builds here (default 1.12.11)")
    p.add_argument("pytest_args", nargs="*", help="arguments for pytest, after --")


def rook_on_testbed_command(args):
    from .errors import SetupError
    from .targets.rook import on_testbed

    try:
        return on_testbed.run(args.pytest_args, args.rook_version,
                              progress=lambda m: print(f"[rook-on-testbed] {m}", flush=True))
    except SetupError as exc:
        print(f"rook-on-testbed: {exc}", file=sys.stderr)
        return 4


def rook_image_command(args):
    from .errors import SetupError
    from .targets.rook import image

    def say(msg):
        print(msg, flush=True)

    try:
        name, archive = image.operator_archive(args.rook_version, progress=say)
        ceph, ceph_tar = image.ceph_archive(image.ceph_release_for(args.rook_version), progress=say)
    except SetupError as exc:
        print(f"rook-image: {exc}", file=sys.stderr)
        return 1
    print(f"{name} (OCI archive {archive})\n{ceph} (OCI archive {ceph_tar})")
    return 0


def add_matrix(sub):
    p = sub.add_parser("matrix", help="merge runs into one page: a column per run, a row per check")
    p.add_argument("sources", nargs="+", metavar="REPORT_DIR",
                   help="report folders (reports/<run-id>), bundles (reports/<run-id>.tar.gz) or folders holding them")
    p.add_argument("-o", "--output", default="reports/matrix.html",
                   help="the page to write (default reports/matrix.html)")


def matrix_command(args):
    from .report.matrix import RunSourceError, write_matrix

    try:
        runs = write_matrix(args.sources, args.output)
    except RunSourceError as exc:
        print(f"matrix: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(runs)} runs ({', '.join(r.run_id for r in runs)})")
    return 0


def sweep_cluster_command(args):
    import shutil
    import tempfile

    from .errors import SetupError
    from .host.sweep import mounts_under
    from .options import RunOptions
    from .targets.existing import ExistingTarget

    target = ExistingTarget(RunOptions(target="ceph", ceph_conf=args.ceph_conf, ceph_keyring=args.ceph_keyring,
                                       rbd_pool=args.rbd_pool, cephfs=args.cephfs))
    try:
        target.preflight()
    except SetupError as exc:
        print(f"sweep-cluster: {exc}", file=sys.stderr)
        return 2
    # Private (0700) scratch space for the sweep's CephFS mount; never removed through a mount.
    work_dir = Path(tempfile.mkdtemp(prefix="cconf-sweep-"))
    try:
        report = target.sweep(work_dir, print, dry_run=args.dry_run)
    finally:
        if not mounts_under(work_dir):
            shutil.rmtree(work_dir, ignore_errors=True)
    for item in report.planned:
        print(f"would remove {item}")
    for run_id, why in sorted(report.live.items()):
        print(f"left alone: run {run_id} ({why})")
    if not (report.removed or report.planned or report.failed):
        print("nothing to sweep")
    return 1 if report.failed else 0


def add_rook_manifests(sub):
    from .targets.rook.release import DEFAULT_VERSION

    p = sub.add_parser("rook-manifests", help="print the YAML the Rook targets apply, for the given options")
    p.add_argument("--osd-device", action="append", default=[], metavar="NODE:DEVICE", required=True)
    p.add_argument("--run-id", default="20260101-000000-0000", help="the run id the names and labels carry")
    p.add_argument("--rook-version", default=DEFAULT_VERSION)
    p.add_argument("--rook-manifests", default=None, metavar="DIR")
    p.add_argument("--ceph-image", default=None, help="default: the --rook-version release's own Ceph image")
    p.add_argument("--operator-image", default=None, help="default: the release's own operator image")
    p.add_argument("--image-pull-policy", default=None, choices=("Never", "IfNotPresent", "Always"))
    p.add_argument("--no-csi", action="store_true", help="Rook < 1.18: the operator deploys no CSI driver")
    p.add_argument("--rook-namespace", default="rook-ceph")
    p.add_argument("--no-deploy-rook", action="store_true", help="only what a run adds to an existing Rook")


def rook_manifests_command(args):
    from .errors import SetupError
    from .targets.rook import manifests
    from .targets.rook.release import Release
    from .targets.rook.settings import RookSettings, default_ceph_image, parse_osd_devices

    try:
        nodes = parse_osd_devices(args.osd_device)
        release = Release.for_options(args.rook_version, args.rook_manifests)
    except (ValueError, SetupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    n = len(nodes)
    s = RookSettings(args.run_id, nodes=nodes, namespace=args.rook_namespace,
                     ceph_image=args.ceph_image or default_ceph_image(release.version), rook_version=release.version,
                     operator_image=args.operator_image, image_pull_policy=args.image_pull_policy,
                     csi=not args.no_csi, mon_count=3 if n >= 3 else 1, pool_size=min(3, max(1, n - 1)))
    try:
        # Placeholders, not secrets: a run makes its own passwords and never prints them.
        phases = manifests.plan(release, s, {"mysql": "set-by-the-run", "minio": "set-by-the-run"},
                                deploy_rook=not args.no_deploy_rook)
    except (ValueError, SetupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    for phase in phases:
        print(f"# --- phase {phase.name} ({len(phase.documents)} resources)")
        print(manifests.dump(phase.documents), end="")
        print("---")
    return 0


if __name__ == "__main__":
    sys.exit(main())

