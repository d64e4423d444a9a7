import pytest

from ceph_conformance.options import OptionError, RunOptions, validate


def check(**kw):
    validate(RunOptions(**kw))


def test_defaults_are_valid():
    check()


@pytest.mark.parametrize("kw, message", [
    ({"target": "nope"}, "--target nope: unknown target; choose one of local, ceph, kind, vagrant, kubeconfig"),
    ({"target": "ceph"}, "--target ceph needs --ceph-conf PATH"),
    ({"ceph_conf": "/etc/ceph/ceph.conf"}, "--ceph-conf is for --target ceph"),
    ({"nodes": 2}, "--nodes 2: at least 3 hosts are needed for pools of size 3"),
    ({"osd_size_gib": 1}, "--osd-size-gib 1: BlueStore needs at least 2 GiB"),
    ({"rgw_port": 70000}, "--rgw-port 70000: not a TCP port"),
    ({"ceph_config": ["osd_class_dir=/x"]}, "--ceph-config is for the Kubernetes targets"),
    ({"target": "kubeconfig", "kubeconfig": "/k", "deploy_rook": True, "osd_devices": ["n1:/dev/loop0"],
      "ceph_config": ["osd class dir"]}, "--ceph-config osd class dir: give OPTION=VALUE"),
    ({"gate_timeout": 0}, "--gate-timeout 0: must be positive"),
    ({"mute_health": ["osd_down"]}, "--mute-health osd_down: not a Ceph health code"),
    ({"target": "ceph", "ceph_conf": "c", "rgw_endpoint": "rgw:80"}, "--rgw-endpoint rgw:80: give a URL"),
    ({"target": "ceph", "ceph_conf": "c", "keep_cluster": True}, "--keep-cluster applies to the clusters the suite "
                                                                  "makes (local, kind, vagrant), not to --target ceph"),
    ({"target": "kubeconfig", "kubeconfig": "k", "rook_namespace": "rook-ceph", "keep_cluster": True},
     "--keep-cluster applies to the clusters the suite makes"),
    # The Kubernetes targets.
    ({"target": "kubeconfig"}, "--target kubeconfig needs --kubeconfig=PATH (or KUBECONFIG set)"),
    ({"target": "kubeconfig", "kubeconfig": "k"}, "--target kubeconfig: pass either --rook-namespace=NS"),
    ({"target": "kubeconfig", "kubeconfig": "k", "rook_namespace": "r", "deploy_rook": True},
     "--target kubeconfig: pass either --rook-namespace=NS"),
    ({"target": "kubeconfig", "kubeconfig": "k", "deploy_rook": True}, "--deploy-rook needs the OSD devices by name"),
    ({"target": "kubeconfig", "kubeconfig": "k", "deploy_rook": True, "osd_devices": ["node1"]},
     "--osd-device node1: give NODE:/dev/DEVICE"),
    ({"target": "kubeconfig", "kubeconfig": "k", "deploy_rook": True, "osd_devices": ["n1:/dev/sdb", "n1:/dev/sdb"]},
     "--osd-device n1:/dev/sdb: given twice"),
    ({"target": "kubeconfig", "kubeconfig": "k", "rook_namespace": "r", "osd_devices": ["n1:/dev/sdb"]},
     "--osd-device is for --deploy-rook"),
    ({"target": "kind", "rook_namespace": "rook-ceph"}, "--rook-namespace is for --target kubeconfig; the kind target"),
    ({"target": "vagrant", "kind_node_image": "kindest/node:v1.34.0"}, "--kind-node-image is for --target kind"),
    ({"target": "kind", "rook_timeout": 0}, "--rook-timeout 0: must be positive"),
    ({"rook_manifests": "/tmp/x"}, "--rook-manifests is for the Kubernetes targets (kind, vagrant, kubeconfig)"),
    ({"target": "ceph", "ceph_conf": "c", "kubeconfig": "k"}, "--kubeconfig is for the Kubernetes targets"),
    ({"recovery_timeout": -1}, "--recovery-timeout -1: must be positive"),
    ({"allow_disruptive": True}, "--allow-disruptive is for --target ceph"),
    ({"allow_unsupported_kubernetes": True}, "--allow-unsupported-kubernetes is for the Kubernetes targets"),
    ({"rook_operator_image": "x"}, "--rook-operator-image is for the Kubernetes targets"),
    ({"target": "kind", "rook_csi": False}, "--no-rook-csi: Rook 1.20.6 deploys ceph-csi through its CSI operator"),
])
def test_bad_input_gets_one_line_saying_what_to_do(kw, message):
    with pytest.raises(OptionError) as err:
        check(**kw)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kw", [
    {"target": "kind"},
    {"target": "kind", "keep_cluster": True, "kind_node_image": "kindest/node:v1.34.0", "rook_version": "1.19.3"},
    {"target": "vagrant", "vagrant_provider": "virtualbox"},
    {"target": "kubeconfig", "kubeconfig": "k", "rook_namespace": "rook-ceph", "context": "prod"},
    {"target": "kubeconfig", "kubeconfig": "k", "deploy_rook": True, "osd_devices": ["n1:/dev/sdb", "n-2.x:/dev/vdc"]},
    {"target": "kubeconfig", "kubeconfig": "k", "deploy_rook": True, "osd_devices": ["n1:/dev/loop20"],
     "rook_version": "1.12.11", "allow_unsupported_kubernetes": True, "rook_csi": False,
     "rook_operator_image": "localhost/ceph-conformance/rook-ceph:v1.12.11-ceph18.2.7", "image_pull_policy": "Never"},
])
def test_the_kubernetes_targets_take_their_options(kw):
    check(**kw)


def test_osd_devices_are_grouped_by_node():
    from ceph_conformance.targets.rook.settings import parse_osd_devices

    assert parse_osd_devices(["a:/dev/sdb", "b:/dev/sdb", "a:/dev/sdc"]) == {"a": ["/dev/sdb", "/dev/sdc"],
                                                                               "b": ["/dev/sdb"]}
