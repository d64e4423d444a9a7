"""The test bed's own network namespace: the seal that keeps every packet of the bed on this machine.

This machine may send traffic only to itself. A Service CIDR or pod range in the host's namespace
sends whatever nothing answers toward the host's default route, out of the machine. So a bed with
nodes runs whole (etcd, API server, controller-manager, scheduler, containerd, kubelets,
kube-proxy, and so the CNI bridges and every pod's veth) inside a network namespace of its own,
made before any of them starts and removed at teardown. Of the two designs issue 26 names (this,
or unreachable routes in the host's namespace) this one seals by construction: the namespace has
no route out at all (`unreachable default`), so nothing a pod, kube-proxy or a misconfiguration
does can reach eth0; it needs no change to the host's forwarding (ip_forward stays 0 there), and
kube-proxy's iptables chains die with the namespace instead of being picked out of the host's.

Inside: `lo` up (the nodes are 127.0.0.2, 127.0.0.3, ...), ip_forward 1 (pod to pod between the
bridges), the Service CIDR on a sink device (a veth whose peer stays down: locally sent packets need a route before
kube-proxy's NAT rewrites them, and one to an unused ClusterIP goes nowhere), the pod range
unreachable except the bridges' /24s, and no default route. The host reaches the API server (and
pods, Services, NodePorts) through a veth pair, a /30 of LINK_RANGE per bed; the host's routes for
the bed's ranges point into that veth (a metric per bed, so two beds can be up side by side; they
go with the veth). Processes start in it with `nsenter --net=` (not `ip netns exec`, which also
makes a mount namespace and would cut the mount propagation between kubelet and containerd).
The namespace is made persistent with `unshare --net=FILE` (not `ip netns add`, which leaves
/run/netns bind-mounted on itself).

A guard counts what would prove the seal broken: iptables rules in the host's OUTPUT and FORWARD
chains, matching the bed's ranges going out of the default route's interface, that only count
(no target). Their packet count must stay zero; they are removed with the bed.
"""

import ctypes
import hashlib
import ipaddress
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import SetupError

NETNS_DIR = Path("/run/netns")
SERVICE_CIDR = "10.0.0.0/24"
POD_RANGE = "10.244.0.0/16"  # node N's bridge is 10.244.N.0/24
LINK_RANGE = "10.254.0.0/16"  # the host <-> bed veth pairs, a /30 each
GUARDED = (SERVICE_CIDR, POD_RANGE, LINK_RANGE)
CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class BedNetwork:
    tag: str  # a short name of the bed (interface names are 15 characters at most)
    slot: int  # which /30 of LINK_RANGE
    uplink: str  # the host's interface of its default route: what the guard watches

    @property
    def name(self):
        return f"cconf{self.tag}"

    @property
    def path(self):
        return NETNS_DIR / self.name

    @property
    def veth_host(self):
        return f"cconf{self.tag}h"

    @property
    def veth_bed(self):
        return f"cconf{self.tag}b"

    @property
    def sink(self):
        return f"cconf{self.tag}s"

    @property
    def _link(self):
        net = ipaddress.ip_network(LINK_RANGE)
        return ipaddress.ip_network(f"{net.network_address + 4 * self.slot}/30")

    @property
    def host_addr(self):
        return str(self._link.network_address + 1)

    @property
    def bed_addr(self):
        return str(self._link.network_address + 2)

    @property
    def metric(self):
        return 1000 + self.slot

    @property
    def guard_comment(self):
        return f"cconf-testbed-{self.tag}-guard"

    def to_state(self):
        return {"tag": self.tag, "slot": self.slot, "uplink": self.uplink}

    @classmethod
    def from_state(cls, d):
        return cls(d["tag"], d["slot"], d["uplink"])


def tag_for(directory):
    return hashlib.sha1(str(directory).encode()).hexdigest()[:6]


def _run(argv, what, check=True, timeout=30):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise SetupError(f"{what} failed: {' '.join(map(str, argv))}: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return proc


def nsenter(net):
    """The prefix that starts a program in the bed's namespace (network only: the mount namespace
    stays the host's, which kubelet and containerd share)."""
    return ["nsenter", f"--net={net.path}", "--"]


def uplink():
    """The interface of the host's default route (eth0 here): where no packet of the bed may go."""
    out = _run(["ip", "-o", "route", "show", "default"], "reading the host's default route").stdout
    found = re.search(r"\bdev (\S+)", out)
    if not found:
        raise SetupError("the host has no default route: cannot name the interface the test bed's guard watches")
    return found.group(1)


def uplink_gateway():
    """The address of the host's default gateway (192.0.2.1 here), or None."""
    out = _run(["ip", "-o", "route", "show", "default"], "reading the host's default route").stdout
    found = re.search(r"\bvia (\S+)", out)
    return found.group(1) if found else None


def _slot_free(slot):
    net = BedNetwork("x", slot, "")
    taken = _run(["ip", "-o", "-4", "addr", "show"], "listing the host's addresses").stdout
    return f" {net.host_addr}/" not in taken and f" {net.bed_addr}/" not in taken


def allocate(directory):
    """A BedNetwork for the bed in directory, on a /30 of LINK_RANGE no interface of the host has."""
    tag = tag_for(directory)
    first = int(tag, 16) % 16000
    for i in range(16000):
        slot = (first + i) % 16000
        if _slot_free(slot):
            return BedNetwork(tag, slot, uplink())
    raise SetupError(f"every /30 of {LINK_RANGE} is in use on this host: remove stale test beds' veths (cconf*h)")


def _in_bed(net, *argv, what, check=True):
    return _run([*nsenter(net), *argv], what, check=check)


def create(net):
    """Make the namespace, its veth to the host, its routes and the host's guard. On failure, what
    was made is removed (destroy)."""
    if net.path.exists():
        raise SetupError(f"network namespace {net.path} exists already: a bed that died left it; "
                         f"run `python -m ceph_conformance testbed down --dir ...` for it")
    try:
        NETNS_DIR.mkdir(mode=0o755, exist_ok=True)
        net.path.touch()
        _run(["unshare", f"--net={net.path}", "true"], f"making network namespace {net.name}")
        _run(["ip", "link", "add", net.veth_host, "type", "veth", "peer", "name", net.veth_bed, "netns", net.path],
             "making the host-bed veth pair")
        _run(["ip", "addr", "add", f"{net.host_addr}/30", "dev", net.veth_host], "addressing the host's veth")
        _run(["ip", "link", "set", net.veth_host, "up"], "bringing the host's veth up")
        for argv in (["ip", "link", "set", "lo", "up"],
                     ["ip", "addr", "add", f"{net.bed_addr}/30", "dev", net.veth_bed],
                     ["ip", "link", "set", net.veth_bed, "up"],
                     # This kernel has no dummy device: a veth whose peer stays down is the sink.
                     ["ip", "link", "add", net.sink, "type", "veth", "peer", "name", f"{net.sink}x"],
                     ["ip", "link", "set", net.sink, "up"],
                     ["ip", "route", "add", SERVICE_CIDR, "dev", net.sink],
                     ["ip", "route", "add", "unreachable", POD_RANGE],
                     ["ip", "route", "add", "unreachable", "default"],
                     ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]):
            _in_bed(net, *argv, what=f"setting up network namespace {net.name}")
        for cidr in (SERVICE_CIDR, POD_RANGE):
            _run(["ip", "route", "add", cidr, "via", net.bed_addr, "dev", net.veth_host, "metric", net.metric],
                 f"routing {cidr} into the bed's veth")
        for chain in ("OUTPUT", "FORWARD"):
            for cidr in GUARDED:
                _run(["iptables", "-w", "5", "-I", chain, "-o", net.uplink, "-d", cidr, "-m", "comment",
                      "--comment", net.guard_comment], f"adding the guard rule {chain} -d {cidr}")
    except BaseException:
        destroy(net)
        raise


def guard_rules(net):
    """The guard's rules as iptables -S prints them, with their packet counts: [(rule, packets)]."""
    out = _run(["iptables-save", "-c", "-t", "filter"], "reading the host's iptables", check=False).stdout
    rules = []
    for line in out.splitlines():
        if f'"{net.guard_comment}"' in line or f" {net.guard_comment} " in f"{line} ":
            found = re.match(r"\[(\d+):(\d+)\]\s+(.*)", line)
            if found:
                rules.append((found.group(3), int(found.group(1))))
    return rules


def guard_packets(net):
    return sum(packets for _rule, packets in guard_rules(net))


def destroy(net):
    """Remove the guard, the veth (and the host routes through it), and the namespace. Returns what
    was done. The processes in the namespace must be stopped before (they keep it alive)."""
    done = []
    for rule, packets in guard_rules(net):
        argv = ["iptables", "-w", "5", *_split_rule(rule.replace("-A ", "-D ", 1))]
        proc = _run(argv, "removing a guard rule", check=False)
        done.append(f"guard rule {rule} ({packets} packets)" if proc.returncode == 0
                    else f"could not remove guard rule {rule}: {proc.stderr.strip()}")
    if _run(["ip", "link", "show", net.veth_host], "", check=False).returncode == 0:
        _run(["ip", "link", "delete", net.veth_host], "deleting the host's veth", check=False)
        done.append(f"veth {net.veth_host} and the routes through it")
    if net.path.exists():
        proc = _run(["umount", net.path], "", check=False)
        if proc.returncode != 0 and os.path.ismount(net.path):
            done.append(f"could not remove network namespace {net.path}: {proc.stderr.strip()}")
        else:
            net.path.unlink(missing_ok=True)
            done.append(f"network namespace {net.name}")
    return done


def _split_rule(rule):
    import shlex

    return shlex.split(rule)


def run_in(net, fn):
    """fn() called in a thread that has joined the bed's network namespace (a socket belongs to the
    namespace of the thread that made it): for probes of what listens on the bed's loopback."""
    result = {}

    def target():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(net.path, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns into {net.path}: {os.strerror(err)}")
            finally:
                os.close(fd)
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name=f"netns-{net.name}", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def inside(net, probe):
    """probe, run in the bed's namespace when there is one."""
    return probe if net is None else (lambda: run_in(net, probe))


def route_get(address, net=None):
    """`ip route get address` from the host (net None) or from inside the bed's namespace: the route
    the kernel would take, or its refusal ("unreachable", "Network is unreachable")."""
    argv = ["ip", "route", "get", address]
    proc = _run([*(nsenter(net) if net else []), *argv], "", check=False)
    return (proc.stdout or proc.stderr).strip()
