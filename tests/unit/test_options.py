import pytest

from ceph_conformance.options import OptionError, RunOptions, validate


def check(**kw):
    validate(RunOptions(**kw))


def test_defaults_are_valid():
    check()


@pytest.mark.parametrize("kw, message", [
    ({"target": "nope"}, "--target nope: unknown target; choose one of local, ceph"),
    ({"target": "kind"}, "--target kind: the Rook/Kubernetes targets are not built yet; available targets: local"),
    ({"target": "ceph"}, "--target ceph needs --ceph-conf PATH"),
    ({"ceph_conf": "/etc/ceph/ceph.conf"}, "--ceph-conf is for --target ceph"),
    ({"nodes": 2}, "--nodes 2: at least 3 hosts are needed for pools of size 3"),
    ({"osd_size_gib": 1}, "--osd-size-gib 1: BlueStore needs at least 2 GiB"),
    ({"rgw_port": 70000}, "--rgw-port 70000: not a TCP port"),
    ({"gate_timeout": 0}, "--gate-timeout 0: must be positive"),
    ({"mute_health": ["osd_down"]}, "--mute-health osd_down: not a Ceph health code"),
    ({"target": "ceph", "ceph_conf": "c", "rgw_endpoint": "rgw:80"}, "--rgw-endpoint rgw:80: give a URL"),
    ({"target": "ceph", "ceph_conf": "c", "keep_cluster": True}, "--keep-cluster applies to the local target only"),
    ({"recovery_timeout": -1}, "--recovery-timeout -1: must be positive"),
    ({"allow_disruptive": True}, "--allow-disruptive is for --target ceph"),
])
def test_bad_input_gets_one_line_saying_what_to_do(kw, message):
    with pytest.raises(OptionError) as err:
        check(**kw)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
