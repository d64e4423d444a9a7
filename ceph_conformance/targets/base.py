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

    # -- changing the cluster's shape (the disruptive checks) ---------------------------------------
    # Only a target whose cluster is thrown away at teardown offers these: the data ledger they write
    # is then removed with the cluster.

    def disruption_support(self):
        """Raise Unsupported, saying why, unless this target can add OSDs and remove a node."""
        raise Unsupported(f"target {self.name} cannot add or remove OSDs")

    def scale_out_plan(self, hosts):
        """Where new OSDs go: [(host, size_bytes)], a new host first, then an existing one."""
        raise Unsupported(f"target {self.name} cannot add OSDs")

    def add_osds(self, placements, progress=print):
        """Create OSDs as planned; returns their ids once they are up."""
        raise Unsupported(f"target {self.name} cannot add OSDs")

    def fail_node(self, host):
        """Stop every OSD of a host as if the host died; returns their ids."""
        raise Unsupported(f"target {self.name} cannot stop a node")

    def remove_node(self, host, progress=print):
        """Remove a (failed) host for good: purge its OSDs, remove its host bucket, free its disks."""
        raise Unsupported(f"target {self.name} cannot remove a node")

    def sweeps_leftovers(self):
        """Whether the run root may hold leftovers of crashed runs of this target."""
        return False

    def keep_instructions(self, run_dir):
        return []
