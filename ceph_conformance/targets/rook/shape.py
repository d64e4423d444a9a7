"""Changing the cluster's shape the Rook way: OSDs added by listing new devices in the CephCluster's
storage spec; a node failed by stopping its OSD Deployments (the operator held at zero replicas so
it does not start them again); a node removed by Rook's documented OSD removal (out, purge, the
OSD Deployments deleted), its CRUSH bucket removed and its entry dropped from the storage spec,
then the operator started again."""

import copy

from ...errors import SetupError
from ...recovery import topology
from ...waits import WaitTimeout, wait_for
from .readiness import deployment_state

CEPH = "ceph.rook.io/v1"
OPERATOR = "rook-ceph-operator"


def with_devices(nodes, additions):
    """The storage nodes after adding devices: {node: [devices]} (a copy; new nodes at the end)."""
    nodes = copy.deepcopy(nodes)
    for node, device in additions:
        if device in nodes.get(node, []):
            raise ValueError(f"{device} is already an OSD device of {node}")
        nodes.setdefault(node, []).append(device)
    return nodes


def without_node(nodes, node):
    if node not in nodes:
        raise ValueError(f"{node} is not a storage node of the CephCluster (have: {sorted(nodes)})")
    return {n: list(d) for n, d in nodes.items() if n != node}


def storage_patch(nodes):
    """A merge patch of the CephCluster's storage nodes: every node, every device by name (a merge
    patch replaces the list whole)."""
    return {"spec": {"storage": {"nodes": [{"name": n, "devices": [{"name": d} for d in devs]}
                                           for n, devs in sorted(nodes.items())]}}}


def new_osds_by_host(before, after, hosts):
    """The id of one new OSD on each host, in the order of hosts; None where none is there yet."""
    found, taken = [], set()
    for host in hosts:
        fresh = [i for i in after.osds_on(host) if i not in before.osds and i not in taken]
        found.append(fresh[0] if fresh else None)
        if fresh:
            taken.add(fresh[0])
    return found


class ShapeChanger:
    def __init__(self, kube, settings, ceph, timeout, progress=print):
        self.kube = kube
        self.s = settings
        self.ceph = ceph  # a CephClient through the toolbox
        self.timeout = timeout
        self.progress = progress

    def _wait(self, probe, what):
        try:
            return wait_for(probe, what=what, timeout=self.timeout, interval=5)
        except WaitTimeout as exc:
            raise SetupError(str(exc)) from None

    def set_storage(self, nodes):
        self.kube.merge_patch(CEPH, "CephCluster", self.s.cluster_name, self.s.namespace, storage_patch(nodes))
        self.s.nodes = nodes

    def add_osds(self, additions):
        """additions: [(node, device)], devices already visible on the nodes. Returns the new OSD ids,
        in order, once each is up and in under its host."""
        before = topology(self.ceph)
        self.set_storage(with_devices(self.s.nodes, additions))
        hosts = [node for node, _ in additions]

        def joined():
            after = topology(self.ceph)
            ids = new_osds_by_host(before, after, hosts)
            up = [i for i in ids if i is not None and after.osds[i]["up"] and after.osds[i]["in"]]
            where = dict(zip(hosts, ids, strict=True))
            return len(up) == len(ids), f"new OSDs up and in: {len(up)} of {len(ids)} ({where})"

        self._wait(joined, "Rook to create the new OSDs from the CephCluster's storage spec")
        return new_osds_by_host(before, topology(self.ceph), hosts)

    def _operator(self, replicas):
        ns = self.s.operator_namespace
        self.kube.merge_patch("apps/v1", "Deployment", OPERATOR, ns, {"spec": {"replicas": replicas}})
        if replicas:
            self._wait(lambda: deployment_state(self.kube.get("apps/v1", "Deployment", OPERATOR, ns)),
                       "Rook's operator to be back")
        else:
            self._wait(lambda: (not self.kube.list("v1", "Pod", ns, "app=rook-ceph-operator"), "operator pod left"),
                       "Rook's operator to stop")

    def _scale_osds(self, ids, replicas):
        for i in ids:
            self.kube.merge_patch("apps/v1", "Deployment", f"rook-ceph-osd-{i}", self.s.namespace,
                                  {"spec": {"replicas": replicas}})

    def fail_node(self, host):
        """Stop every OSD of host as if it died: the operator held at zero, the OSD Deployments at zero."""
        ids = topology(self.ceph).osds_on(host)
        if not ids:
            raise SetupError(f"host {host} has no OSDs to stop")
        self._operator(0)
        self._scale_osds(ids, 0)
        self._wait(lambda: (not [p for i in ids for p in self.kube.list("v1", "Pod", self.s.namespace,
                                                                          f"ceph-osd-id={i}")],
                            "OSD pods still running"), f"the OSD pods of {host} to stop")
        return ids

    def remove_node(self, host):
        """Rook's OSD removal for every OSD of host, then the host out of CRUSH and of the storage spec."""
        ids = topology(self.ceph).osds_on(host)
        self._operator(0)  # already at zero after fail_node; the removal must not race it
        for i in ids:
            self.ceph.ceph("osd", "out", f"osd.{i}")
            self.ceph.ceph("osd", "purge", str(i), "--yes-i-really-mean-it")
            self.kube.delete("apps/v1", "Deployment", f"rook-ceph-osd-{i}", self.s.namespace)
        self.ceph.ceph("osd", "crush", "rm", host)
        self.set_storage(without_node(self.s.nodes, host))
        self._operator(1)
        return ids
