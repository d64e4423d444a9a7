"""One node of the test bed (rung 2): its own containerd (Debian's, runc), a CNI bridge (Debian's
plugins) and a kubelet built from source, all under the node's directory.

Each node is named by a loopback address of its own (127.0.0.2, 127.0.0.3, ...): the kubelet takes
a node name that is an IP address as the node's InternalIP without the check that refuses loopback
for --node-ip, so the API server reaches the kubelet (exec, logs, port-forward) on loopback only.
Each node has its own containerd: a kubelet removes every pod sandbox its runtime holds that it
did not create, so two kubelets cannot share one.
"""

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import SetupError
from ..waits import WaitTimeout, wait_for
from .pki import CertificateAuthority

POD_CIDR_BASE = "10.244"  # node N gets 10.244.N.0/24 on its own bridge, routed between them in the bed's namespace
CLUSTER_DNS = "10.0.0.10"  # the kube-dns Service (CoreDNS), a fixed address of the Service CIDR
CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class NodeLayout:
    index: int
    dir: Path

    @property
    def name(self):
        return f"127.0.0.{self.index + 1}"

    @property
    def socket(self):
        return self.dir / "containerd" / "sock"  # a unix socket path: short (104 bytes at most, with .ttrpc)

    @property
    def bridge(self):
        # An interface name (15 characters at most) that names the bed: two beds never share a bridge.
        digest = hashlib.sha1(str(self.dir.parent.parent).encode()).hexdigest()[:6]
        return f"cconf{digest}n{self.index}"

    @property
    def cgroup_root(self):
        return f"/{self.bridge}"

    @property
    def kubeconfig(self):
        return self.dir / "kubelet.kubeconfig"


SOCKET_PATH_MAX = 104  # what containerd accepts for a unix socket path


def check_paths(node):
    longest = f"{node.socket}.ttrpc"
    if len(longest) > SOCKET_PATH_MAX:
        room = SOCKET_PATH_MAX - (len(longest) - len(str(node.dir.parent.parent)))
        raise SetupError(f"the test bed's directory {node.dir.parent.parent} is too long for containerd's sockets "
                         f"({len(longest)} > {SOCKET_PATH_MAX} bytes): use a directory of at most {room} characters")


def containerd_config(node, sandbox_image):
    d = node.dir / "containerd"
    cri = "io.containerd.grpc.v1.cri"
    return f"""version = 2
root = "{d / 'root'}"
state = "{d / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{node.socket}"
[ttrpc]
  address = "{node.socket}.ttrpc"
[metrics]
  address = ""
[plugins."{cri}"]
  # No image can be pulled here: the sandbox ("pause") image is the locally built one.
  sandbox_image = "{sandbox_image}"
  # Lowering a process's oom_score_adj needs a capability containers do not get here: runc fails
  # ("failed to update /proc/self/oom_score_adj: Permission denied") for the sandbox's -998. This
  # clamps every container's score to containerd's own instead.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."{cri}".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."{cri}".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."{cri}".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d / 'runc'}"
  [plugins."{cri}".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{node.dir / 'cni' / 'net.d'}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d / 'opt'}"
"""


def cni_config(node):
    subnet = f"{POD_CIDR_BASE}.{node.index}.0/24"
    return {"cniVersion": "1.0.0", "name": f"cconf-{node.index}", "plugins": [
        # The pod's default route is the bridge's gateway, in the bed's namespace, which has no way out.
        {"type": "bridge", "bridge": node.bridge, "isGateway": True, "isDefaultGateway": True, "ipMasq": False,
         "hairpinMode": True,
         "ipam": {"type": "host-local", "dataDir": str(node.dir / "cni" / "ipam"),
                  "ranges": [[{"subnet": subnet}]]}},
        {"type": "loopback"},
    ]}


def kubelet_config(node, ca, serving, port, healthz_port):
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": node.name, "port": port, "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": healthz_port,
        "tlsCertFile": str(serving.cert), "tlsPrivateKeyFile": str(serving.key),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{node.socket}",
        "cgroupDriver": "cgroupfs",
        # This host has cgroup v1 (hybrid); the kubelet refuses it unless told otherwise.
        "failCgroupV1": False,
        # Every pod's cgroups under a root named for this node (made before, removed after), never
        # under a name another containerd on this host could share; no node-allocatable limits.
        "cgroupsPerQOS": True, "cgroupRoot": node.cgroup_root, "enforceNodeAllocatable": [],
        "failSwapOn": False,
        "localStorageCapacityIsolation": False,
        # Disk on this shared host is often over 70 % full: do not evict on it.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "serializeImagePulls": False,
        # Each node's own: a kubelet's log GC removes the pod log directories of pods it does not know,
        # so in a shared /var/log/pods it removed the other node's (a pod's logs read "failed to try
        # resolving symlinks").
        "podLogsDir": str(node.dir / "pod-logs"),
        "resolvConf": "",  # pods get only the cluster's DNS: nothing outside exists
        "clusterDNS": [CLUSTER_DNS], "clusterDomain": CLUSTER_DOMAIN,
        "staticPodPath": "",
        "syncFrequency": "10s", "nodeStatusUpdateFrequency": "5s",
    }


def make_node_pki(ca_dir, node):
    ca = CertificateAuthority(ca_dir)
    client = ca.issue(f"kubelet-{node.index}-client", f"system:node:{node.name}", orgs=("system:nodes",),
                      client=True)
    serving = ca.issue(f"kubelet-{node.index}-serving", node.name, sans=(node.name, "localhost"), server=True)
    return client, serving


def write_node_files(node, sandbox_image, ca, serving, port, healthz_port):
    (node.dir / "containerd").mkdir(parents=True, mode=0o700)
    (node.dir / "cni" / "net.d").mkdir(parents=True)
    (node.dir / "kubelet").mkdir()
    (node.dir / "containerd" / "config.toml").write_text(containerd_config(node, sandbox_image))
    (node.dir / "cni" / "net.d" / "10-cconf.conflist").write_text(json.dumps(cni_config(node), indent=1))
    (node.dir / "kubelet.yaml").write_text(yaml.safe_dump(kubelet_config(node, ca, serving, port, healthz_port)))


def containerd_argv(node):
    return ["containerd", "--config", str(node.dir / "containerd" / "config.toml"), "--log-level", "warn"]


def kube_proxy_config(node, kubeconfig, healthz_port, metrics_port):
    """One kube-proxy for every node of the bed: they share one network namespace, so one set of
    iptables rules serves them all (it runs as the first node). masqueradeAll: a pod reaching a
    Service whose endpoint is on its own bridge gets the reply back through the namespace's IP
    stack (hairpin and same-bridge traffic would otherwise answer around the NAT). conntrack
    settings 0: leave the kernel's as they are (nf_conntrack_max is the host's, not the bed's)."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": node.name, "bindAddress": "0.0.0.0",
        "healthzBindAddress": f"127.0.0.1:{healthz_port}", "metricsBindAddress": f"127.0.0.1:{metrics_port}",
        "mode": "iptables", "clusterCIDR": f"{POD_CIDR_BASE}.0.0/16",
        "iptables": {"masqueradeAll": True, "syncPeriod": "10s", "minSyncPeriod": "0s"},
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }


def kube_proxy_argv(binary, config_path):
    return [binary, f"--config={config_path}", "--v=1"]


def kubelet_argv(binary, node):
    return [binary, f"--config={node.dir / 'kubelet.yaml'}", f"--kubeconfig={node.kubeconfig}",
            f"--root-dir={node.dir / 'kubelet'}", f"--hostname-override={node.name}",
            f"--cert-dir={node.dir / 'kubelet' / 'pki'}", "--v=1"]


def ctr(node, *args, timeout=120):
    return subprocess.run(["ctr", "--address", str(node.socket), "--namespace", "k8s.io", *args],
                          capture_output=True, text=True, timeout=timeout)


def containerd_probe(node):
    def probe():
        if not node.socket.exists():
            return False, f"no socket {node.socket} yet"
        out = ctr(node, "version", timeout=10)
        return out.returncode == 0, (out.stderr or out.stdout).strip()[-200:]
    return probe


def import_image(node, archive):
    out = ctr(node, "images", "import", "--all-platforms", str(archive), timeout=600)
    if out.returncode != 0:
        raise SetupError(f"importing {archive} into node {node.name}'s containerd failed: {out.stderr.strip()[-300:]}")


def _network_namespace(node, cid):
    """The named network namespace (/run/netns/cni-...) a sandbox container was given, if any."""
    out = ctr(node, "containers", "info", cid, timeout=30)
    try:
        spaces = json.loads(out.stdout)["Spec"]["linux"]["namespaces"]
    except (ValueError, KeyError, TypeError):
        return None
    paths = [ns.get("path") for ns in spaces if ns.get("type") == "network"]
    return paths[0] if paths and paths[0] and paths[0].startswith(("/run/netns/", "/var/run/netns/")) else None


def remove_leftover_containers(node):
    """Kill and remove every task and container of the node's containerd (pods the kubelet did not
    stop), and the network namespaces of their sandboxes: without the CRI's StopPodSandbox nobody
    else would (the veth in it goes with the namespace)."""
    from ..host.mounts import UnmountError, unmount

    done = []
    listed = ctr(node, "containers", "list", "--quiet", timeout=30)
    for cid in listed.stdout.split() if listed.returncode == 0 else []:
        netns = _network_namespace(node, cid)
        ctr(node, "tasks", "kill", "--signal", "SIGKILL", cid, timeout=30)
        ctr(node, "tasks", "delete", "--force", cid, timeout=30)
        ctr(node, "containers", "delete", cid, timeout=30)
        done.append(f"container {cid[:12]} of node {node.name}")
        if netns and Path(netns).exists():
            try:
                unmount(netns, lazy=False)
            except UnmountError as exc:
                done.append(f"could not remove network namespace {netns}: {exc}")
                continue
            Path(netns).unlink(missing_ok=True)
            done.append(f"network namespace {netns}")
    return done


def delete_bridge(node):
    if subprocess.run(["ip", "link", "show", node.bridge], capture_output=True).returncode != 0:
        return []
    subprocess.run(["ip", "link", "delete", node.bridge], capture_output=True, timeout=30)
    return [f"bridge {node.bridge}"]


def wait_node_ready(core, name, timeout):
    def probe():
        try:
            node = core.read_node(name)
        except Exception as exc:  # noqa: BLE001 - not registered yet: the state to report
            return False, f"not registered ({type(exc).__name__})"
        ready = [c for c in node.status.conditions or [] if c.type == "Ready"]
        if ready and ready[0].status == "True":
            return True, "Ready"
        return False, f"Ready={ready[0].status}: {ready[0].message}" if ready else "no Ready condition"

    try:
        return wait_for(probe, what=f"node {name} to be Ready", timeout=timeout, interval=1.0)
    except WaitTimeout as exc:
        raise SetupError(str(exc)) from None


def cgroup_hierarchies():
    """Mount points of this host's cgroup hierarchies (v1 controllers and the unified one)."""
    import psutil

    return [p.mountpoint for p in psutil.disk_partitions(all=True) if p.fstype in ("cgroup", "cgroup2")]


def make_cgroups(node):
    for hierarchy in cgroup_hierarchies():
        Path(hierarchy, node.cgroup_root.lstrip("/")).mkdir(exist_ok=True)


def remove_cgroups(node):
    """rmdir the node's cgroup tree in every hierarchy, deepest first (a cgroup is removed by rmdir)."""
    import os

    done, left = [], []
    for hierarchy in cgroup_hierarchies():
        top = Path(hierarchy, node.cgroup_root.lstrip("/"))
        if not top.is_dir():
            continue
        for root, dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
            for d in dirs:
                try:
                    os.rmdir(os.path.join(root, d))
                except OSError as exc:
                    left.append(f"{os.path.join(root, d)} ({exc.strerror})")
        try:
            top.rmdir()
            done.append(str(top))
        except OSError as exc:
            left.append(f"{top} ({exc.strerror})")
    lines = [f"cgroups {node.cgroup_root} in {len(done)} hierarchies"] if done else []
    return lines + [f"could not remove cgroup {x}" for x in left]


# Host directories containerd 1.6 makes whatever its config says: its shims' sockets
# (/run/containerd/s) and the CRI's named network namespaces (/run/netns).
HOST_DIRS = (Path("/run/containerd"), Path("/run/netns"))


def remove_host_dir_if_ours(path, existed_before):
    """Remove path (empty directories only) if it was not there before the bed."""
    import os

    path = Path(path)
    if existed_before or not path.is_dir():
        return []
    for root, dirs, _files in sorted(os.walk(path), key=lambda w: -len(w[0])):
        for d in dirs:
            try:
                os.rmdir(os.path.join(root, d))
            except OSError:
                pass
    try:
        path.rmdir()
    except OSError:
        return [f"could not remove {path}: not empty"]
    return [str(path)]
