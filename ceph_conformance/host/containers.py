"""Containers of a run on this host (podman): started with the run's labels, found and removed by them.

Every container the suite starts carries OWNER_LABEL, the path (a run directory, or a mountpoint
below it) it belongs to, as processes carry their mark (host/processes.py); the sweep removes
exactly the containers whose owner is at or below a run directory. podman's client process
(`podman run` in the foreground) is what the run tracks as the daemon or client: SIGTERM to it
reaches the container's process (podman proxies signals), and its end is the container's end.
A SIGKILL cannot be proxied, so a kill goes through podman (kill_owned).
"""

import json
import os
import shutil
import subprocess

from ..waits import WaitTimeout, wait_for

OWNER_LABEL = "ceph-conformance.owner"
RUN_LABEL = "ceph-conformance.run"
ROLE_LABEL = "ceph-conformance.role"
# crun refuses this host's hybrid cgroups; runc runs.
RUNTIME = ("--runtime", "runc")
# Raising the limits above the host's is not permitted here: give them explicitly, lower.
ULIMITS = ("--ulimit", "nofile=1000:1000", "--ulimit", "nproc=1000:1000")


def podman(*args):
    return ["podman", *RUNTIME, *args]


def available():
    return shutil.which("podman") is not None


def run_argv(image, argv, *, name, owner, run_id, role, binds=(), interactive=False, remove=True, detach=False):
    """`podman run` of argv in image, in the foreground: host network and pids' view of /dev (loop
    devices, /dev/fuse), privileged as cephadm's OSDs are, binds (host path, or (host path, options))
    at the same paths, as root (whatever user the image names: the run's directories are root's)."""
    mounts = []
    for bind in binds:
        path, options = (bind, "") if isinstance(bind, (str, os.PathLike)) else bind
        mounts += ["-v", f"{path}:{path}{':' + options if options else ''}"]
    return podman(
        "run", *(["--rm"] if remove else []), *(["-d"] if detach else []), "--replace", "--name", name,
        *(["-i"] if interactive else []),
        "--label", f"{OWNER_LABEL}={owner}", "--label", f"{RUN_LABEL}={run_id}", "--label", f"{ROLE_LABEL}={role}",
        "--network", "host", "--privileged", "--user", "0:0", "-v", "/dev:/dev", *mounts, *ULIMITS,
        "--log-driver", "none", "--entrypoint", str(argv[0]), image, *[str(a) for a in argv[1:]],
    )


def exec_argv(name, argv, interactive=False):
    return podman("exec", *(["-i"] if interactive else []), name, *[str(a) for a in argv])


def _belongs(owner, marker):
    marker = str(marker).rstrip("/")
    return bool(owner) and (owner == marker or owner.startswith(marker + "/"))


def owned(marker, role=None, running_only=False):
    """[(name, role)] of containers (running or not) whose owner is marker or a path below it."""
    if not available():
        return []
    try:
        proc = subprocess.run(podman("ps", "-a", "--filter", f"label={OWNER_LABEL}", "--format", "json"),
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return []
    if proc.returncode != 0 or not proc.stdout.strip():
        return []
    found = []
    for c in json.loads(proc.stdout):
        labels = c.get("Labels") or {}
        if not _belongs(labels.get(OWNER_LABEL), marker):
            continue
        if role is not None and labels.get(ROLE_LABEL) != role:
            continue
        if running_only and c.get("State") != "running":
            continue
        names = c.get("Names") or [c.get("Id", "")[:12]]
        found.append((names[0], labels.get(ROLE_LABEL)))
    return found


def remove_owned(marker, role=None, stop_timeout=10):
    """podman rm -f (SIGTERM, then SIGKILL after stop_timeout) every container of marker; returns
    what it removed, e.g. "container cconf-RUN-mon.a"."""
    names = [name for name, _ in owned(marker, role)]
    if not names:
        return []
    proc = subprocess.run(podman("rm", "-f", "-t", str(stop_timeout), *names), capture_output=True, text=True,
                          timeout=stop_timeout + 60)
    said = "" if proc.returncode == 0 else f" (podman rm: {proc.stderr.strip()[-200:]})"
    return [f"container {name}{said}" for name in names]


def kill(name, timeout=20.0):
    """SIGKILL the container's processes (a crash) and wait until it is no longer running."""
    subprocess.run(podman("kill", "--signal", "KILL", name), capture_output=True, timeout=60)

    def probe():
        proc = subprocess.run(podman("inspect", "--format", "{{.State.Running}}", name), capture_output=True,
                              text=True, timeout=30)
        running = proc.returncode == 0 and proc.stdout.strip() == "true"
        return not running, f"container {name} running: {running}"

    try:
        wait_for(probe, what=f"container {name} to end after SIGKILL", timeout=timeout, interval=0.2)
    except WaitTimeout as exc:
        raise RuntimeError(str(exc)) from None


def kill_owned(owner, timeout=20.0):
    """SIGKILL the running containers whose owner is exactly owner."""
    for name, _ in owned(owner, running_only=True):
        kill(name, timeout)


def main_pid(name):
    """The host pid of the container's first process, or None."""
    proc = subprocess.run(podman("inspect", "--format", "{{.State.Pid}}", name), capture_output=True, text=True,
                          timeout=30)
    try:
        pid = int(proc.stdout.strip())
    except ValueError:
        return None
    return pid or None
