"""The target seam: where the cluster comes from and how checks reach it.

Checks are written once against these capabilities. A capability a target does not offer raises
Unsupported, which the fixtures turn into a skip naming the target.
"""

from abc import ABC, abstractmethod
from pathlib import Path

from ..ceph_client import CephClient
from ..errors import Unsupported
from . import runner


class Target(ABC):
    name = "?"

    def __init__(self, options):
        self.options = options
        self.description = {}
        self.run_dir = None  # the run's directory on this host: records, logs, host clients' files

    @abstractmethod
    def preflight(self):
        """Raise SetupError with one line if this host or the options cannot run the target."""

    @abstractmethod
    def bring_up(self, run_dir, progress):
        """Create or connect to the cluster; return a JSON-able description (kept in the run)."""

    def attach(self, run_dir, description):
        """Reconnect to a cluster brought up by another process of the same run."""
        self.run_dir = run_dir
        self.description = description

    @abstractmethod
    def tear_down(self, run_dir, progress):
        """Remove what the run created. Returns seconds taken."""

    # -- the data plane (dataplane/): what checks, fixtures and the ledger use -------------------
    @abstractmethod
    def tools(self):
        """The CephTools that run ceph/rados/rbd/radosgw-admin against the cluster."""

    def client(self, timeout=60.0):
        """A CephClient for `ceph ... --format json` and the other Ceph tools, through tools()."""
        return CephClient(self.tools(), timeout)

    def rbd_pool(self):
        """The pool the run's RBD images and the RADOS baseline go to."""
        raise Unsupported(f"target {self.name} offers no RBD pool")

    def object_store(self):
        """S3 through RGW: an ObjectStore (endpoint, users)."""
        raise Unsupported(f"target {self.name} offers no S3 endpoint")

    def block_storage(self, scope, namer):
        """RBD volumes for the run's checks: a BlockStorage. scope names the user ("block-gw0",
        "ledger-gw0"): what it attaches is kept apart from other users'."""
        raise Unsupported(f"target {self.name} offers no block volumes")

    def shared_filesystem(self, scope, namer, directory=None):
        """CephFS clients of one directory of the run: a SharedFilesystem. directory: one released by
        an earlier SharedFilesystem of the run, to read back what was written there."""
        raise Unsupported(f"target {self.name} offers no shared filesystem")

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

    # -- the run on this machine (the plugin calls only these) --------------------------------------
    def prepare_runner(self):
        """Before anything starts: adopt what the run's processes leave behind (a subreaper), so
        teardown can end and collect them."""
        runner.become_subreaper()

    def sweep_crashed_runs(self, run_root, progress):
        """Remove what crashed runs of this target left under run_root (none by default)."""
        return None

    def claim_run_dir(self, run_dir, run_id):
        """Mark the run directory as this live run's: a later sweep leaves it alone while we live."""
        runner.write_marker(run_dir, run_id)

    def keep_run(self, run_dir):
        """--keep-cluster: later sweeps leave the run alone unless told to include kept runs."""
        runner.mark_kept(run_dir)

    def release_clients(self, run_dir):
        """End what checks left mounted or running under the run directory; returns what it ended."""
        return runner.release_clients(run_dir)

    def sweep_run(self, run_dir):
        """After teardown, whatever passed or failed: nothing of the run stays on this machine."""
        runner.sweep_run_dir(run_dir)

    def log_files(self, run_dir):
        """Logs the run's report keeps, read before teardown: {name in the report: path on this host}."""
        path = Path(run_dir) / "progress.log"
        return {"progress.log": path} if path.is_file() else {}

    def keep_instructions(self, run_dir):
        return []
