"""The Rook layer's Kubernetes mechanics on real pods of the test bed (kubelet, containerd, runc; the
bed's locally built image): exec through kube.py, portforward.py to a pod serving HTTP, the layer's
bounded readiness waits, and logs.py's collection, secrets masked. The layer's own code, not the
client library called directly."""

import hashlib
import os
import time
import urllib.request

import pytest

from ceph_conformance import secrets
from ceph_conformance.errors import CommandError, SetupError
from ceph_conformance.run import new_run_id
from ceph_conformance.targets.rook import logs, readiness
from ceph_conformance.targets.rook.kube import Kube
from ceph_conformance.targets.rook.layer import RookLayer
from ceph_conformance.targets.rook.portforward import PortForward
from ceph_conformance.targets.rook.settings import RookSettings
from ceph_conformance.testbed.image import IMAGE
from ceph_conformance.waits import wait_for

RUN = new_run_id()
LABELS = {"ceph-conformance/run": RUN}
# perl-base is in every Debian root filesystem: an HTTP/1.0 server on the pod's loopback that answers
# each request with its path and a fixed body.
HTTP_SERVER = ("use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 8080, "
               "Listen => 5, ReuseAddr => 1) or die $!; print \"listening\\n\"; $| = 1; "
               "while (my $c = $s->accept) { my $l = <$c>; my ($p) = $l =~ m{^GET (\\S+)}; "
               "while (my $h = <$c>) { last if $h =~ /^\\r?\\n$/ } my $b = \"served $p\\n\"; "
               "print $c \"HTTP/1.0 200 OK\\r\\nContent-Length: \" . length($b) . \"\\r\\n\\r\\n$b\"; close $c }")


@pytest.fixture(scope="module")
def kube(kube_api, testbed, bed_nodes):
    return Kube(kube_api, discovery_cache=str(testbed.dir / "rook-layer-discovery.json"))


@pytest.fixture(scope="module")
def namespace(kube):
    name = f"cconf-layer-{RUN}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(LABELS)}})
    wait_for(lambda: (kube.get("v1", "ServiceAccount", "default", name) is not None, "no default ServiceAccount"),
             what=f"the default ServiceAccount in {name}", timeout=60, interval=0.5)
    yield name
    kube.delete("v1", "Namespace", name)
    wait_for(lambda: (kube.get("v1", "Namespace", name) is None, "still Terminating"),
             what=f"namespace {name} to be deleted", timeout=120, interval=0.5)


def _pod(kube, namespace, name, command, image=IMAGE, env=None):
    container = {"name": "main", "image": image, "imagePullPolicy": "Never", "command": command}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                                                "labels": {**LABELS, "app": name}},
                "spec": {"containers": [container], "terminationGracePeriodSeconds": 1}})
    return name


@pytest.fixture(scope="module")
def layer(kube, namespace):
    s = RookSettings(RUN, nodes={"n": ["/dev/loop20"]}, namespace=namespace)
    return RookLayer(kube, None, s, deploy_rook=False, timeout=60, progress=lambda m: None, interval=0.5)


def _wait_ready(layer, namespace, app, timeout=90):
    """The layer's wait with readiness's probe of pods, as the layer waits for the run's apps."""
    return layer._wait(lambda: readiness.pods_state(layer.kube.list("v1", "Pod", namespace, f"app={app}")),
                       f"pod {app} to be ready", timeout)


@pytest.fixture(scope="module")
def server(kube, layer, namespace):
    _pod(kube, namespace, "http", ["perl", "-e", HTTP_SERVER])
    _wait_ready(layer, namespace, "http")
    wait_for(lambda: ("listening" in kube.pod_log(namespace, "http"), "no line yet"),
             what="the HTTP server to listen", timeout=30, interval=0.5)
    return "http"


def test_readiness_wait_sees_a_real_pod_ready(layer, namespace, server):
    assert _wait_ready(layer, namespace, server) == "1 pod(s) ready"


def test_exec_gives_stdout_stderr_and_exit_status(kube, namespace, server):
    rc, out, err = kube.exec(namespace, server, ["sh", "-c", "cat /etc/debian_version; echo oops >&2; exit 3"],
                             timeout=30)
    assert rc == 3
    assert out.decode().strip().split(".")[0].isdigit(), out
    assert err == b"oops\n"
    assert kube.exec(namespace, server, ["true"], timeout=30) == (0, b"", b"")


def test_exec_carries_stdin_bytes_and_binary_stdout_both_ways(kube, namespace, server):
    """3 MiB of random bytes in (several stdin frames, then EOF), the same bytes back out, and their hash."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    rc, out, err = kube.exec(namespace, server, ["cat"], input=data, timeout=60)
    assert (rc, err) == (0, b"")
    assert out == data, f"{len(out)} bytes back of {len(data)}"
    rc, out, _ = kube.exec(namespace, server, ["sha256sum"], input=data, timeout=60)
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_exec_of_a_missing_program_fails_without_hanging(kube, namespace, server):
    rc, _, _ = kube.exec(namespace, server, ["no-such-program"], timeout=30)
    assert rc == 126, rc


def test_exec_that_hangs_fails_within_its_bound_saying_so(kube, namespace, server):
    started = time.monotonic()
    with pytest.raises(CommandError) as info:
        kube.exec(namespace, server, ["sh", "-c", "echo started; sleep 600"], timeout=3)
    took = time.monotonic() - started
    assert 3 <= took < 8, took
    assert info.value.timeout == 3
    assert str(info.value).startswith(f"`kubectl exec -n {namespace} {server} -- sh -c echo started; sleep 600` "
                                      "did not finish within 3s"), info.value
    assert "started" in str(info.value)  # what it printed before the bound is kept


def test_port_forward_serves_http_from_the_pod(kube, namespace, server):
    forward = PortForward(kube, namespace, server, 8080)
    try:
        for path in ("/first", "/second"):  # each connection is a forward of its own
            with urllib.request.urlopen(f"http://127.0.0.1:{forward.port}{path}", timeout=20) as resp:
                assert resp.status == 200
                assert resp.read() == f"served {path}\n".encode()
    finally:
        forward.close()
    with pytest.raises(OSError):  # closed: the local port no longer accepts
        urllib.request.urlopen(f"http://127.0.0.1:{forward.port}/after", timeout=5)


def test_readiness_wait_fails_in_its_bound_naming_the_pod_and_reason(kube, layer, namespace):
    _pod(kube, namespace, "missing-image", ["true"], image="localhost/ceph-conformance/not-built:never")
    started = time.monotonic()
    with pytest.raises(SetupError) as info:
        _wait_ready(layer, namespace, "missing-image", timeout=20)
    took = time.monotonic() - started
    assert 20 <= took < 30, took
    said = str(info.value)
    assert "pod missing-image to be ready" in said and "not reached after 20s" in said, said
    assert "missing-image: Pending: main ErrImageNeverPull" in said, said


def test_logs_are_collected_with_secrets_masked(kube, namespace, server, tmp_path):
    secret = secrets.register(f"s3cr3t-{os.urandom(8).hex()}")
    _pod(kube, namespace, "talker", ["sh", "-c", 'echo "password is $PASSWORD"; echo to-stderr >&2; sleep infinity'],
         env={"PASSWORD": secret})
    wait_for(lambda: ("password is" in kube.pod_log(namespace, "talker"), "no line yet"),
             what="the talker to print", timeout=60, interval=0.5)
    errors = logs.collect(kube, None, [namespace], tmp_path, progress=lambda m: None)
    assert errors == []
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert {f"{namespace}/events.txt", f"{namespace}/talker/pod.yaml", f"{namespace}/talker/main.log",
            f"{namespace}/http/main.log"} <= files, files
    log = (tmp_path / namespace / "talker" / "main.log").read_text()
    assert sorted(log.splitlines()) == [f"password is {secrets.MASK}", "to-stderr"], log
    assert "PASSWORD" in (tmp_path / namespace / "talker" / "pod.yaml").read_text()  # the describe, env named
    events = (tmp_path / namespace / "events.txt").read_text()
    assert "Scheduled Pod/talker" in events, events
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(), f"{path} holds the secret"
