"""Targets by name. Each implements the capabilities of targets.base.Target."""

from .existing import ExistingTarget
from .kind import KindTarget
from .kubeconfig import KubeconfigTarget
from .local.target import LocalTarget
from .vagrant import VagrantTarget

TARGETS = {"local": LocalTarget, "ceph": ExistingTarget, "kind": KindTarget, "vagrant": VagrantTarget,
           "kubeconfig": KubeconfigTarget}
KUBERNETES = ("kind", "vagrant", "kubeconfig")  # Rook on Kubernetes (targets/rook/)
PLANNED = ()  # named targets not built yet (the option error says so)


def make_target(options):
    return TARGETS[options.target](options)
