"""etcd and kube-apiserver of the test bed: their certificates, command lines, and readiness.

Both listen on loopback only, on free ports, with TLS and client-certificate authentication
(etcd too: another user of this machine could otherwise write the cluster's state).
"""

import json
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import SetupError
from ..host import processes
from ..waits import WaitTimeout, wait_for
from .pki import CertificateAuthority, CertPair

SERVICE_CIDR = "10.0.0.0/24"
SERVICE_IP = "10.0.0.1"  # the `kubernetes` Service: the first address of SERVICE_CIDR
ERROR_WORDS = re.compile(r"error|unknown|fatal|failed|invalid|not defined|cannot|can't", re.I)
API_SANS = ("127.0.0.1", "localhost", SERVICE_IP, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local")


@dataclass(frozen=True)
class Pki:
    ca: Path
    etcd_server: CertPair
    etcd_client: CertPair
    api_server: CertPair
    kubelet_client: CertPair
    admin: CertPair
    sa_key: Path
    sa_pub: Path


def make_pki(d, extra_api_sans=()):
    from .pki import service_account_keys

    ca = CertificateAuthority(d).create()
    sa_key, sa_pub = service_account_keys(d)
    return Pki(
        ca=ca.cert_path,
        etcd_server=ca.issue("etcd", "etcd", sans=("127.0.0.1", "localhost"), server=True, client=True),
        etcd_client=ca.issue("apiserver-etcd-client", "kube-apiserver-etcd-client", client=True),
        api_server=ca.issue("apiserver", "kube-apiserver", sans=(*API_SANS, *extra_api_sans), server=True),
        kubelet_client=ca.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                                orgs=("system:masters",), client=True),
        admin=ca.issue("admin", "ceph-conformance-admin", orgs=("system:masters",), client=True),
        sa_key=sa_key, sa_pub=sa_pub,
    )


def etcd_argv(binary, data_dir, pki, client_port, peer_port):
    client, peer = f"https://127.0.0.1:{client_port}", f"https://127.0.0.1:{peer_port}"
    return [binary, "--name=testbed", f"--data-dir={data_dir}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=testbed={peer}", "--initial-cluster-state=new",
            f"--cert-file={pki.etcd_server.cert}", f"--key-file={pki.etcd_server.key}",
            f"--trusted-ca-file={pki.ca}", "--client-cert-auth",
            f"--peer-cert-file={pki.etcd_server.cert}", f"--peer-key-file={pki.etcd_server.key}",
            f"--peer-trusted-ca-file={pki.ca}", "--peer-client-cert-auth",
            # A throwaway store on a disk shared with cluster tests: fsync would only slow it down.
            "--unsafe-no-fsync", "--log-level=warn"]


def apiserver_argv(binary, pki, port, etcd_port, cert_dir, advertise=None):
    """advertise: the address of the `kubernetes` Service's endpoint (a bed with nodes: its own network
    namespace's end of the veth; the Endpoints API refuses loopback). Then the server listens on every
    address of that namespace (the host reaches it through the veth, pods through the Service);
    without it, on the host's loopback only."""
    return [binary, f"--etcd-servers=https://127.0.0.1:{etcd_port}",
            f"--etcd-cafile={pki.ca}", f"--etcd-certfile={pki.etcd_client.cert}",
            f"--etcd-keyfile={pki.etcd_client.key}",
            f"--bind-address={'0.0.0.0' if advertise else '127.0.0.1'}", f"--secure-port={port}",
            f"--cert-dir={cert_dir}", *([f"--advertise-address={advertise}"] if advertise else []),
            f"--tls-cert-file={pki.api_server.cert}", f"--tls-private-key-file={pki.api_server.key}",
            f"--client-ca-file={pki.ca}", "--anonymous-auth=false",
            f"--kubelet-client-certificate={pki.kubelet_client.cert}",
            f"--kubelet-client-key={pki.kubelet_client.key}", f"--kubelet-certificate-authority={pki.ca}",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}", f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true", "--profiling=false",
            "--v=1"]


def https_get(url, ca, pair, timeout=5.0):
    """(status, body) of a GET with a client certificate."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(str(pair.cert), str(pair.key))
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def log_tail(log, lines=6):
    """The end of a log, led by its first error lines when the end is only a usage text."""
    try:
        text = [line.strip() for line in Path(log).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    tail = text[-lines:]
    errors = [line for line in text if ERROR_WORDS.search(line)][:3]
    return " | ".join([*(e for e in errors if e not in tail), *tail])


def wait_ready(name, pid, owner, log, probe, timeout):
    """Wait (bounded) until probe() -> (ready, state); fail at once, with its log, if the process ends."""
    def attempt():
        if not processes.is_alive(pid, owner):
            return True, "exited"
        return probe()

    try:
        state = wait_for(attempt, what=f"{name} to be ready", timeout=timeout, interval=0.5)
    except WaitTimeout as exc:
        raise SetupError(f"{exc}; its log ends: {log_tail(log)}") from None
    if state == "exited":
        raise SetupError(f"{name} exited while starting; its log ({log}) ends: {log_tail(log)}")
    return state


def etcd_probe(pki, port):
    def probe():
        status, body = https_get(f"https://127.0.0.1:{port}/health", pki.ca, pki.etcd_client)
        healthy = status == 200 and json.loads(body).get("health") == "true"
        return healthy, f"HTTP {status}: {body.strip()[:200]}"
    return probe


def apiserver_probe(pki, port):
    def probe():
        status, body = https_get(f"https://127.0.0.1:{port}/readyz?verbose", pki.ca, pki.admin)
        if status == 200:
            return True, "ready"
        failing = [line for line in body.splitlines() if "failed" in line]
        return False, f"HTTP {status}: {'; '.join(failing) or body.strip()[:300]}"
    return probe


def controller_manager_argv(binary, pki, kubeconfig, port, cert_dir):
    return [binary, f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={cert_dir}", f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca}", "--use-service-account-credentials=true", "--leader-elect=false",
            f"--cluster-signing-cert-file={pki.ca}", f"--cluster-signing-key-file={pki.ca.with_suffix('.key')}",
            "--profiling=false", "--v=1"]


def scheduler_argv(binary, kubeconfig, port, cert_dir):
    return [binary, f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={cert_dir}", "--leader-elect=false", "--profiling=false", "--v=1"]


def healthz_probe(port):
    """/healthz of a component serving with its own self-signed certificate (loopback, nothing sent)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def probe():
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=ctx, timeout=5) as resp:
                body = resp.read().decode(errors="replace")
                return resp.status == 200 and body.strip() == "ok", f"HTTP {resp.status}: {body[:200]}"
        except urllib.error.HTTPError as exc:
            return False, f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}"
    return probe


def plain_healthz_probe(port):
    """The kubelet's /healthz: plain HTTP on loopback."""
    def probe():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                body = resp.read().decode(errors="replace")
                return resp.status == 200, f"HTTP {resp.status}: {body[:200]}"
        except urllib.error.HTTPError as exc:
            return False, f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}"
    return probe
