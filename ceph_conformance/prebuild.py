"""Fill the caches before the first use: every program and image the suite and its tests build here.

A fresh machine builds about 30 minutes of programs and images (the test bed's Kubernetes, MinIO,
the registry, Ghost, Ceph images) the first time a check or test needs each; whoever needs one
first waits for it. `python -m ceph_conformance.prebuild` builds them all, in the order the
project's tests first need them, each behind the same file lock its user takes: started in the
background beside the tests (`make test` does), the builds overlap the tests that do not need them.
Each build runs under `nice -n 19`. A warm cache makes every step a no-op.

Prints one line when a step begins and when it ends, and writes {step: seconds or error} as JSON
to --summary.
"""

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

from .errors import SetupError


def _registry(progress):
    from .clients.registry import ensure_binary

    ensure_binary(progress=progress)


def _minio(progress):
    from .host import gobuild
    from .targets.host_clients.minio import MINIO

    gobuild.ensure_built(MINIO, progress=progress)


def _ghost(progress):
    from .host.npminstall import ensure_ghost

    ensure_ghost(progress=progress)


def _ceph_image(release):
    def build(progress):
        from .targets.local.cephimage import ensure_ceph_image

        ensure_ceph_image(release, progress=progress)

    return build


def _kubernetes(progress):
    from .testbed import build

    build.ensure_built(tuple(build.PACKAGES), progress)


def _testbed_images(progress):
    from .testbed import coredns
    from .testbed.image import VARIANTS, ensure_image

    for image in VARIANTS:
        ensure_image(progress=progress, image=image)
    coredns.ensure_image(progress)  # CoreDNS built from its Go module, on the bed's image


def _rook(progress):
    from .targets.rook import image
    from .targets.rook.on_testbed import DEFAULT_ROOK_VERSION

    image.operator_archive(DEFAULT_ROOK_VERSION, progress=progress)
    image.ceph_archive(image.ceph_release_for(DEFAULT_ROOK_VERSION), progress)


# In the order `make test` first needs them: the unit tests use the registry; the integration tests
# MinIO, Ghost and the Ceph images; the test bed's tests come last (Kubernetes, its images and
# CoreDNS, then Rook's operator image and the Ceph image its CephCluster runs).
STEPS = {
    "registry": _registry,
    "ghost": _ghost,
    "minio": _minio,
    "ceph-image-trixie": _ceph_image("trixie"),
    "ceph-image-forky": _ceph_image("forky"),
    "kubernetes": _kubernetes,
    "testbed-images": _testbed_images,
    "rook": _rook,
}


# Set by SIGUSR1 (project-tests when its parts are done): stop after the current step, whose
# build is left to finish: a build cut short would only be redone by its next user.
STOP = threading.Event()


def run(steps, progress=print):
    """Run each step; returns {step: seconds} or {step: "failed: ..."}. A failed step does not stop
    the others: its user meets the same error, in its own words, when it needs the step."""
    done = {}
    for name in steps:
        if STOP.is_set():
            done[name] = "not started: asked to stop"
            continue
        started = time.monotonic()
        progress(f"prebuild {name} ...")
        try:
            STEPS[name](progress)
        except (SetupError, OSError) as exc:
            done[name] = f"failed: {exc}"
            progress(f"prebuild {name} failed after {time.monotonic() - started:.0f}s: {exc}")
            continue
        done[name] = round(time.monotonic() - started, 1)
        progress(f"prebuild {name} done in {done[name]:.0f}s")
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m ceph_conformance.prebuild",
        description="Build every program and image the suite and its tests use into the caches "
                    "(/var/cache/ceph-conformance), so that no check waits for a first-use build.")
    parser.add_argument("steps", nargs="*", metavar="STEP",
                        help=f"what to build (default: all, in this order): {', '.join(STEPS)}")
    parser.add_argument("--summary", type=Path, help="write {step: seconds or error} as JSON here")
    args = parser.parse_args(argv)
    unknown = [s for s in args.steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown step {', '.join(unknown)}: choose from {', '.join(STEPS)}")
    signal.signal(signal.SIGUSR1, lambda *_: STOP.set())
    done = run(args.steps or list(STEPS), progress=lambda m: print(m, flush=True))
    if args.summary:
        args.summary.write_text(json.dumps(done, indent=1))
    return 1 if any(isinstance(v, str) and v.startswith("failed") for v in done.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
