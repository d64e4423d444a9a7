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
