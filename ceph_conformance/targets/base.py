"""The target seam: where the cluster comes from and how checks reach it.

Checks are written once against these capabilities. A capability a target does not offer raises
Unsupported, which the fixtures turn into a skip naming the target.
"""

from abc import ABC, abstractmethod

from ..errors import Unsupported


class Target(ABC):
    name = "?"

    def __init__(self, options):
        self.options = options
        self.description = {}

    @abstractmethod
    def preflight(self):
        """Raise SetupError with one line if this host or the options cannot run the target."""

    @abstractmethod
    def bring_up(self, run_dir, progress):
        """Create or connect to the cluster; return a JSON-able description (kept in the run)."""

    def attach(self, run_dir, description):
        """Reconnect to a cluster brought up by another process of the same run."""
        self.description = description

    @abstractmethod
    def tear_down(self, run_dir, progress):
        """Remove what the run created. Returns seconds taken."""

    @abstractmethod
    def client(self, timeout=60.0):
        """A CephClient for `ceph ... --format json` and the other Ceph tools."""

    def s3_endpoint(self):
        raise Unsupported(f"target {self.name} offers no S3 endpoint")

    def resource_usage(self):
        """What the cluster's processes use on this host, where the target can see them."""
        return {}

    def sweeps_leftovers(self):
        """Whether the run root may hold leftovers of crashed runs of this target."""
        return False

    def keep_instructions(self, run_dir):
        return []
