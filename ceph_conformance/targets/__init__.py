"""Targets by name. Each implements the capabilities of targets.base.Target."""

from .existing import ExistingTarget
from .local.target import LocalTarget

TARGETS = {"local": LocalTarget, "ceph": ExistingTarget}
# Rook on Kubernetes: not built yet; named so the error can say so.
PLANNED = ("kind", "vagrant", "kubeconfig")


def make_target(options):
    return TARGETS[options.target](options)
