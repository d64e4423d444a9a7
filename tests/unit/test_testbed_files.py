"""The test bed's PKI, kubeconfigs and node configuration, checked without building anything."""

import base64
import ipaddress
import stat
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ceph_conformance.errors import SetupError
from ceph_conformance.testbed import control_plane, node
from ceph_conformance.testbed.kubeconfig import write_kubeconfig
from ceph_conformance.testbed.pki import CertificateAuthority


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_every_certificate_is_signed_by_the_bed_ca_and_every_key_is_private(tmp_path):
    pki = control_plane.make_pki(tmp_path / "pki")
    ca = _cert(pki.ca)
    for pair in (pki.etcd_server, pki.etcd_client, pki.api_server, pki.kubelet_client, pki.admin):
        _cert(pair.cert).verify_directly_issued_by(ca)
    keys = sorted((tmp_path / "pki").glob("*.key"))
    assert len(keys) == 7 and {stat.S_IMODE(k.stat().st_mode) for k in keys} == {0o600}, keys
    assert stat.S_IMODE((tmp_path / "pki").stat().st_mode) == 0o700


def test_a_certificate_of_another_ca_does_not_verify(tmp_path):
    ours = CertificateAuthority(tmp_path / "ours").create()
    theirs = CertificateAuthority(tmp_path / "theirs").create()
    stranger = theirs.issue("admin", "admin", orgs=("system:masters",), client=True)
    with pytest.raises(InvalidSignature):  # same CA name, another key
        _cert(stranger.cert).verify_directly_issued_by(_cert(ours.cert_path))


def test_the_api_servers_certificate_names_every_way_it_is_reached(tmp_path):
    pki = control_plane.make_pki(tmp_path / "pki")
    cert = _cert(pki.api_server.cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address(control_plane.SERVICE_IP) in san.get_values_for_type(x509.IPAddress)
    assert "kubernetes.default.svc.cluster.local" in san.get_values_for_type(x509.DNSName)
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    admin = _cert(pki.admin.cert)
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    assert list(admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_kubeconfig_is_private_and_carries_the_client_certificate(tmp_path):
    pki = control_plane.make_pki(tmp_path / "pki")
    path = write_kubeconfig(tmp_path / "admin.kubeconfig", "https://127.0.0.1:6443", pki.ca, pki.admin, "admin")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    user = config["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == pki.admin.cert.read_bytes()
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    with pytest.raises(FileExistsError):  # never rewritten in place (it would be readable while written)
        write_kubeconfig(path, "https://127.0.0.1:1", pki.ca, pki.admin, "admin")


def test_node_configuration_keeps_everything_under_the_node_and_on_loopback(tmp_path):
    layout = node.NodeLayout(2, tmp_path / "bed" / "nodes" / "2")
    config = tomllib.loads(node.containerd_config(layout, "localhost/image:tag"))
    assert config["root"].startswith(str(layout.dir)) and config["state"].startswith(str(layout.dir))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == "localhost/image:tag" and cri["restrict_oom_score_adj"] is True
    assert cri["stream_server_address"] == "127.0.0.1"
    kubelet = node.kubelet_config(layout, tmp_path / "ca.crt", control_plane.CertPair(tmp_path / "s.crt",
                                                                                     tmp_path / "s.key"), 1, 2)
    assert kubelet["address"] == layout.name == "127.0.0.3"
    assert kubelet["authentication"]["anonymous"]["enabled"] is False and kubelet["readOnlyPort"] == 0
    assert kubelet["cgroupRoot"] == layout.cgroup_root and len(layout.bridge) <= 15
    other = node.NodeLayout(2, tmp_path / "another-bed" / "nodes" / "2")
    assert other.bridge != layout.bridge, "two beds on one host must not share a bridge"


def test_a_bed_directory_too_long_for_containerds_sockets_is_refused_in_one_line():
    # Paths only (nothing is made): under xdist tmp_path alone is long enough to be refused.
    layout = node.NodeLayout(1, Path("/var/tmp") / ("x" * 90) / "nodes" / "1")
    with pytest.raises(SetupError, match=r"too long for containerd's sockets .* use a directory of at most \d+"):
        node.check_paths(layout)
    node.check_paths(node.NodeLayout(1, Path("/var/tmp/ceph-conformance-testbed/default/nodes/1")))


def test_a_log_tail_leads_with_the_error_when_the_end_is_usage_text(tmp_path):
    log = tmp_path / "etcd.log"
    log.write_text("flag provided but not defined: -no-such-flag\nUsage:\n" + "".join(f"  option {i}\n"
                                                                                      for i in range(20)))
    tail = control_plane.log_tail(log)
    assert tail.startswith("flag provided but not defined") and tail.endswith("option 19")
    assert control_plane.log_tail(tmp_path / "missing.log") == "(no log)"


def test_the_beds_network_names_and_addresses_fit_and_stay_in_its_ranges():
    from ceph_conformance.testbed import network

    net = network.BedNetwork(network.tag_for("/var/tmp/ceph-conformance-testbed/default"), 15999, "eth0")
    for name in (net.name, net.veth_host, net.veth_bed, net.sink, f"{net.sink}x"):
        assert len(name) <= 15, name  # the kernel's limit for an interface name
    link = ipaddress.ip_network(network.LINK_RANGE)
    assert {ipaddress.ip_address(net.host_addr), ipaddress.ip_address(net.bed_addr)} <= set(link)
    assert ipaddress.ip_network(f"{net.host_addr}/30", strict=False) == ipaddress.ip_network(f"{net.bed_addr}/30",
                                                                                             strict=False)
    assert network.BedNetwork.from_state(net.to_state()) == net
    assert network.nsenter(net) == ["nsenter", f"--net=/run/netns/{net.name}", "--"]  # not `ip netns exec`
    assert network.BedNetwork("x", 0, "eth0").bed_addr != network.BedNetwork("x", 1, "eth0").bed_addr


def test_the_api_server_advertises_the_beds_address_and_keeps_loopback_without_one(tmp_path):
    pki = control_plane.make_pki(tmp_path / "pki", extra_api_sans=("10.254.0.2",))
    san = _cert(pki.api_server.cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.254.0.2") in san.get_values_for_type(x509.IPAddress)
    sealed = control_plane.apiserver_argv("kube-apiserver", pki, 6443, 2379, tmp_path, advertise="10.254.0.2")
    assert "--advertise-address=10.254.0.2" in sealed and "--bind-address=0.0.0.0" in sealed
    alone = control_plane.apiserver_argv("kube-apiserver", pki, 6443, 2379, tmp_path)
    assert "--bind-address=127.0.0.1" in alone and not [a for a in alone if a.startswith("--advertise")]


def test_kube_proxy_and_the_kubelets_are_set_for_the_cluster_network(tmp_path):
    layout = node.NodeLayout(1, tmp_path / "bed" / "nodes" / "1")
    proxy = node.kube_proxy_config(layout, tmp_path / "kp.kubeconfig", 1, 2)
    assert proxy["mode"] == "iptables" and proxy["clusterCIDR"] == "10.244.0.0/16"
    assert proxy["iptables"]["masqueradeAll"] is True and proxy["hostnameOverride"] == layout.name
    assert proxy["conntrack"]["maxPerCore"] == 0  # the host's nf_conntrack_max is left alone
    kubelet = node.kubelet_config(layout, tmp_path / "ca.crt", control_plane.CertPair(tmp_path / "s.crt",
                                                                                     tmp_path / "s.key"), 1, 2)
    assert kubelet["clusterDNS"] == [node.CLUSTER_DNS] and kubelet["clusterDomain"] == "cluster.local"
    assert kubelet["podLogsDir"].startswith(str(layout.dir)), "two kubelets must not share /var/log/pods"


def test_coredns_serves_the_cluster_domain_and_forwards_nowhere():
    from ceph_conformance.testbed import coredns

    docs = {d["kind"]: d for d in coredns.manifests(node.CLUSTER_DNS, node.CLUSTER_DOMAIN)}
    corefile = docs["ConfigMap"]["data"]["Corefile"]
    assert "kubernetes cluster.local" in corefile and "forward" not in corefile and "proxy" not in corefile
    assert docs["Service"]["metadata"]["name"] == "kube-dns" and docs["Service"]["spec"]["clusterIP"] == "10.0.0.10"
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == coredns.IMAGE and container["imagePullPolicy"] == "Never"
