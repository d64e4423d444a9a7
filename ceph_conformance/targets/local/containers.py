"""How the local cluster's programs run when --ceph-image is given: from the image, as cephadm and
Rook run Ceph, one container per daemon.

Each daemon is `podman run` in the foreground (the tracked process; host/containers.py): host
network, privileged with the host's /dev (the OSDs' loop devices), the cluster directory bound at
its own path so ceph.conf, keyrings, data and logs mean the same inside and out, the run's labels and
a name with the run id (cconf-<run id>-<daemon>). Ceph's tools (ceph, rados, radosgw-admin,
ceph-authtool, mkfs) run by `podman exec` in the run's tools container, started first and stopped
last: an exec costs a fraction of a container start. FUSE clients (rbd-fuse, ceph-fuse) run in
containers of their own whose mount directory's parent is bound with rshared propagation, so the
mount they make shows on this host for the checks (host_clients, ClientLauncher). The image's user
does not matter: everything runs as root, as the host target does (the official quay.io/ceph/ceph
images name ceph, uid 167, and Debian's 64045; the run's directories are root's).
"""

import re
import subprocess
import uuid
from pathlib import Path

from ...commands import run
from ...errors import CommandError, SetupError
from ...host import containers, mounts, processes
from ...waits import wait_for
from ..host_clients.tools import HostCephTools

TOOLS = "tools"
# A shell that ends on SIGTERM (sleep as the container's pid 1 would ignore it).
IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def container_name(run_id, what):
    return "cconf-" + re.sub(r"[^a-zA-Z0-9_.-]", "-", f"{run_id}-{what}")


class CephContainers:
    """The run's use of image: cluster_dir is the local cluster's run directory (<run>/cluster)."""

    def __init__(self, image, cluster_dir):
        self.image = image
        self.cluster_dir = Path(cluster_dir)
        self.run_dir = self.cluster_dir.parent
        self.run_id = self.run_dir.name

    def name(self, what):
        return container_name(self.run_id, what)

    def daemon_argv(self, daemon, argv, role="daemon"):
        return containers.run_argv(self.image, argv, name=self.name(daemon), owner=self.cluster_dir,
                                   run_id=self.run_id, role=role, binds=[self.cluster_dir])

    # -- the tools container -------------------------------------------------------------------
    def start_tools(self, marker, log):
        """The run's tools container (idle, for execs); returns the pid of its podman client."""
        pid = processes.start(self.daemon_argv(TOOLS, IDLE, role=TOOLS), log, marker)

        def probe():
            if not processes.is_alive(pid, marker):
                tail = " | ".join(Path(log).read_text(errors="replace").strip().splitlines()[-3:])
                raise SetupError(f"the tools container of {self.image} exited: {tail or '(no output)'}")
            proc = subprocess.run(containers.exec_argv(self.name(TOOLS), ["true"]), capture_output=True, timeout=30)
            return proc.returncode == 0, proc.stderr.decode(errors="replace").strip()[-200:]

        wait_for(probe, what=f"the tools container of {self.image} to run", timeout=120, interval=0.3)
        return pid

    def tool_argv(self, argv, interactive=False):
        return containers.exec_argv(self.name(TOOLS), argv, interactive)

    def run_tool(self, argv, timeout=60.0):
        return run(self.tool_argv(argv), timeout=timeout)

    def version(self):
        """`ceph --version` of the image, e.g. "ceph version 18.2.7 (...) reef (stable)"."""
        try:
            return self.run_tool(["ceph", "--version"], timeout=60).stdout.strip()
        except CommandError as exc:
            raise SetupError(f"{self.image}: ceph --version failed: {exc}") from None

    def kill(self, daemon):
        containers.kill(self.name(daemon))

    def main_pid(self, daemon):
        return containers.main_pid(self.name(daemon))

    def tools(self, conf, keyring, name="client.admin"):
        return ContainerCephTools(self, conf, keyring, name)


class ContainerCephTools(HostCephTools):
    """Ceph's tools from the run's image, by exec in its tools container; FUSE clients in containers."""

    def __init__(self, ceph_containers, conf, keyring=None, name="client.admin"):
        super().__init__(conf, keyring, name)
        self.containers = ceph_containers
        self.launcher = ContainerClientLauncher(ceph_containers)

    def command(self, tool, args, interactive=False):
        return self.containers.tool_argv([tool, *args], interactive)


class ContainerClientLauncher:
    """FUSE clients (rbd-fuse, ceph-fuse) in containers of the run's image. The mount's parent
    directory is bound with rshared propagation; the run directory is made a shared mount (a bind
    onto itself, undone by the sweep) so that the propagation reaches this host."""

    def __init__(self, ceph_containers):
        self.c = ceph_containers

    def start(self, argv, log, owner, mountpoint):
        mountpoint = Path(mountpoint)
        mounts.make_shared(self.c.run_dir)
        # The run's client directory holds the client's mount, keyring, log and socket: bind it all.
        clients = self.c.run_dir / "clients"
        shared = clients if mountpoint.is_relative_to(clients) else mountpoint.parent
        what = f"{Path(argv[0]).name}-{uuid.uuid4().hex[:6]}"
        full = containers.run_argv(self.c.image, argv, name=self.c.name(what), owner=owner, run_id=self.c.run_id,
                                   role="client", binds=[self.c.cluster_dir, (shared, "rshared")])
        return processes.start(full, log, owner)

    def kill(self, pid, owner):
        """A crash: SIGKILL the client in its container, then its podman client ends."""
        containers.kill_owned(owner)
        processes.stop(pid, owner, timeout=15)


def image_error(image):
    """None if podman has image, else one line saying what to do."""
    proc = subprocess.run(containers.podman("image", "exists", image), capture_output=True, timeout=60)
    if proc.returncode == 0:
        return None
    return (f"--ceph-image {image}: podman has no such image: build one with `make ceph-image RELEASE=trixie` "
            "(or forky), or `podman pull` it where a registry is reachable")

