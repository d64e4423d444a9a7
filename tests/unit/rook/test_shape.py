"""Scale-out and node removal through the CephCluster's storage spec: what is patched, and how new
OSDs are told apart (from `ceph osd tree` as Ceph reports it)."""

import pytest

from ceph_conformance.options import RunOptions
from ceph_conformance.recovery import Topology
from ceph_conformance.targets.kind import KindTarget
from ceph_conformance.targets.rook import cluster, shape
from ceph_conformance.targets.rook.settings import RookSettings


def test_devices_are_added_by_name_and_a_node_dropped_whole():
    nodes = {"w1": ["/dev/loop20"], "w2": ["/dev/loop21"]}
    grown = shape.with_devices(nodes, [("w3", "/dev/loop30"), ("w1", "/dev/loop31")])
    assert grown == {"w1": ["/dev/loop20", "/dev/loop31"], "w2": ["/dev/loop21"], "w3": ["/dev/loop30"]}
    assert nodes == {"w1": ["/dev/loop20"], "w2": ["/dev/loop21"]}, "the nodes given are left as they were"
    with pytest.raises(ValueError, match="already an OSD device of w1"):
        shape.with_devices(nodes, [("w1", "/dev/loop20")])
    assert shape.without_node(grown, "w2") == {"w1": ["/dev/loop20", "/dev/loop31"], "w3": ["/dev/loop30"]}
    with pytest.raises(ValueError, match="not a storage node"):
        shape.without_node(grown, "nope")


def test_the_storage_patch_lists_every_node_and_device_as_the_cluster_spec_does():
    nodes = {"w2": ["/dev/loop21"], "w1": ["/dev/loop20", "/dev/loop31"]}
    patch = shape.storage_patch(nodes)
    spec = cluster.ceph_cluster(RookSettings("r", nodes=nodes))["spec"]["storage"]
    assert patch["spec"]["storage"]["nodes"] == spec["nodes"]  # the same shape, devices only by name
    assert "useAllDevices" not in patch["spec"]["storage"]


def _topo(hosts, down=()):
    osds = {i: {"host": h, "up": i not in down, "in": True, "bytes": 1} for h, ids in hosts.items() for i in ids}
    return Topology(osds=osds, capacity_bytes=len(osds), hosts=hosts)


def test_new_osds_are_matched_to_the_hosts_they_were_added_on():
    before = _topo({"w1": [0], "w2": [1]})
    after = _topo({"w1": [0, 3], "w2": [1], "w3": [2]})
    assert shape.new_osds_by_host(before, after, ["w3", "w1"]) == [2, 3]
    assert shape.new_osds_by_host(before, _topo({"w1": [0], "w2": [1], "w3": [2]}), ["w3", "w1"]) == [2, None]
    two_on_one = _topo({"w1": [0, 3, 4], "w2": [1]})
    assert shape.new_osds_by_host(before, two_on_one, ["w1", "w1"]) == [3, 4]


def test_kind_scales_out_onto_its_spare_worker_and_an_existing_host():
    target = KindTarget(RunOptions(target="kind", osd_size_gib=6))
    target.description = {"spare_node": "c-worker5"}
    hosts = ["c-worker2", "c-worker", "c-worker3", "c-worker4"]
    assert target.scale_out_plan(hosts) == [("c-worker5", 6 * 1024**3), ("c-worker", 6 * 1024**3)]
    # After a scale-out the spare is a host already: only an existing host gets an OSD.
    assert target.scale_out_plan(hosts + ["c-worker5"]) == [("c-worker", 6 * 1024**3)]
    assert target.disruption_support() is None
