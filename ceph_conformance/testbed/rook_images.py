"""Rook's images on the test bed's nodes: nothing can be pulled, so they are built here and imported.

The operator image (the Ceph image with `rook` added, targets/rook/image.py) and the Ceph image
itself (the CephCluster's daemons and the toolbox run it) are exported as OCI archives into the
cache and imported into every node's containerd (TestBed.import_image), under the exact names the
Rook layer's settings give (operator_image, ceph_image, with image_pull_policy "Never").
"""

import time

from ..targets.rook import image

DEFAULT_ROOK_VERSION = "1.12.11"  # the newest Rook whose operator builds from the Go module proxy


def import_rook_images(bed, rook_version=DEFAULT_ROOK_VERSION, ceph_release=None, progress=print, ceph=True):
    """Build what the cache lacks and import the operator image (and, with ceph, the Ceph image)
    into every node of bed. Returns {"operator": name, "ceph": name or None, "seconds": {...}}."""
    seconds = {}
    t0 = time.monotonic()
    operator, operator_tar = image.operator_archive(rook_version, ceph_release, progress)
    seconds["build"] = round(time.monotonic() - t0, 1)
    archives = [(operator, operator_tar)]
    ceph_name = None
    if ceph:
        ceph_name, ceph_tar = image.ceph_archive(ceph_release or image.ceph_release_for(rook_version), progress)
        archives.append((ceph_name, ceph_tar))
    for name, archive in archives:
        t0 = time.monotonic()
        bed.import_image(archive)
        seconds[f"import {name}"] = round(time.monotonic() - t0, 1)
        progress(f"imported {name} into every node in {seconds[f'import {name}']:.0f}s")
    return {"operator": operator, "ceph": ceph_name, "seconds": seconds}
