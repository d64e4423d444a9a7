"""Rung 2: pods from the locally built image run on the test bed's two nodes (kubelet, containerd,
runc, CNI), scheduled and managed by the real scheduler and controller-manager; exec, port-forward,
logs and readiness work through the API server as the Rook targets use them."""

import hashlib
import time

import pytest
from kubernetes import client
from kubernetes.stream import portforward, stream

from ceph_conformance.run import new_run_id
from ceph_conformance.testbed.image import IMAGE
from ceph_conformance.waits import WaitTimeout, wait_for

RUN = new_run_id()
LABELS = {"ceph-conformance/run": RUN}
# perl-base is in every Debian root filesystem: a one-line TCP echo server on the pod's loopback.
ECHO_SERVER = ("use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 8080, "
               "Listen => 5, ReuseAddr => 1) or die $!; print \"listening\\n\"; $| = 1; "
               "while (my $c = $s->accept) { my $l = <$c>; print $c \"echo:$l\"; close $c }")


@pytest.fixture(scope="module")
def core(kube_api, bed_nodes):
    return client.CoreV1Api(kube_api)


@pytest.fixture(scope="module")
def namespace(core):
    name = f"cconf-pods-{RUN}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=LABELS)))

    def default_account():  # made by the controller-manager; pods cannot be created before it
        return any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account(name).items), "none"

    wait_for(default_account, what=f"the default ServiceAccount in {name}", timeout=60)
    yield name
    core.delete_namespace(name)

    def gone():  # the namespace controller (controller-manager) empties it, the kubelets stop its pods
        return name not in [n.metadata.name for n in core.list_namespace().items], "still Terminating"

    wait_for(gone, what=f"namespace {name} to be deleted", timeout=120)


def pod_manifest(name, command, spec_extra=None, **container):
    spec = {"containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": command,
                            **container}], "terminationGracePeriodSeconds": 1, **(spec_extra or {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": dict(LABELS)}, "spec": spec}


def wait_phase(core, namespace, name, phase="Running", timeout=90):
    def probe():
        pod = core.read_namespaced_pod(name, namespace)
        waiting = [f"{s.name}: {s.state.waiting.reason}" for s in pod.status.container_statuses or []
                   if s.state.waiting]
        return pod.status.phase == phase, f"{pod.status.phase} on {pod.spec.node_name} {waiting}"

    wait_for(probe, what=f"pod {name} to be {phase}", timeout=timeout)
    return core.read_namespaced_pod(name, namespace)


@pytest.fixture(scope="module")
def echo_pod(core, namespace):
    core.create_namespaced_pod(namespace, pod_manifest("echo", ["perl", "-e", ECHO_SERVER]))
    return wait_phase(core, namespace, "echo")


def test_both_nodes_are_ready_with_the_built_kubelet(core, bed_nodes):
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert sorted(nodes) == sorted(bed_nodes), nodes.keys()
    for node in nodes.values():
        assert node.status.node_info.kubelet_version == client.VersionApi(core.api_client).get_code().git_version
        assert node.status.node_info.container_runtime_version.startswith("containerd://")
        assert [c.status for c in node.status.conditions if c.type == "Ready"] == ["True"]


def test_a_deployment_spreads_its_pods_over_both_nodes(kube_api, core, namespace, bed_nodes):
    """The controller-manager makes the ReplicaSet and pods, the scheduler places one on each node."""
    apps = client.AppsV1Api(kube_api)
    template = pod_manifest("spread", ["/bin/sleep", "infinity"])
    template["spec"]["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                                      "whenUnsatisfiable": "DoNotSchedule",
                                                      "labelSelector": {"matchLabels": {"app": "spread"}}}]
    template = {"metadata": {"labels": {**LABELS, "app": "spread"}}, "spec": template["spec"]}
    apps.create_namespaced_deployment(namespace, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "spread", "labels": dict(LABELS)},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "spread"}}, "template": template}})

    def available():
        d = apps.read_namespaced_deployment("spread", namespace)
        return (d.status.available_replicas or 0) == 2, f"{d.status.available_replicas or 0} of 2 available"

    wait_for(available, what="deployment spread to have 2 available pods", timeout=120)
    pods = core.list_namespaced_pod(namespace, label_selector="app=spread").items
    assert sorted(p.spec.node_name for p in pods) == sorted(bed_nodes), [p.spec.node_name for p in pods]
    assert all(p.status.pod_ip for p in pods), [p.status.pod_ip for p in pods]


def test_exec_returns_stdout_stderr_and_exit_status(core, namespace, echo_pod):
    resp = stream(core.connect_get_namespaced_pod_exec, "echo", namespace,
                  command=["/bin/sh", "-c", "cat /etc/debian_version; echo oops >&2; exit 3"],
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=30)
    assert resp.returncode == 3
    assert resp.read_stdout().strip().split(".")[0].isdigit()
    assert resp.read_stderr().strip() == "oops"


def test_exec_feeds_stdin_bytes(core, namespace, echo_pod):
    """What the toolbox executor does: argv and stdin bytes in, stdout bytes out."""
    resp = stream(core.connect_get_namespaced_pod_exec, "echo", namespace, command=["sha256sum"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin("ceph-conformance\n")
    resp.close_channel(0)  # end of input (the v5 channel protocol, which this API server speaks)
    resp.run_forever(timeout=30)

    assert resp.read_stdout().split()[0] == hashlib.sha256(b"ceph-conformance\n").hexdigest()
    assert resp.returncode == 0


def test_port_forward_reaches_a_server_listening_on_the_pods_loopback(core, namespace, echo_pod):
    wait_for(lambda: ("listening" in core.read_namespaced_pod_log("echo", namespace), "no line yet"),
             what="the echo server to listen", timeout=30)
    forward = portforward(core.connect_get_namespaced_pod_portforward, "echo", namespace, ports="8080")
    sock = forward.socket(8080)
    sock.setblocking(True)
    sock.settimeout(20)
    try:
        sock.sendall(b"ping through the API server\n")
        assert sock.recv(200) == b"echo:ping through the API server\n"
    finally:
        sock.close()
    assert forward.error(8080) is None


def test_logs_carry_what_the_container_printed(core, namespace):
    script = "for i in 1 2 3; do echo line-$i; done; echo to-stderr >&2"
    core.create_namespaced_pod(namespace, pod_manifest("printer", ["/bin/sh", "-c", script],
                                                       spec_extra={"restartPolicy": "Never"}))
    pod = wait_phase(core, namespace, "printer", phase="Succeeded")
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0
    # Read raw: kubernetes 36 deserialises a plain-text body as str(bytes) ("b'line-1\\n...'").
    lines = core.read_namespaced_pod_log("printer", namespace, _preload_content=False).data.decode().split()
    # stdout keeps its order; stderr is another stream, interleaved as it came
    assert [x for x in lines if x.startswith("line-")] == ["line-1", "line-2", "line-3"], lines
    assert sorted(lines) == ["line-1", "line-2", "line-3", "to-stderr"], lines


def test_readiness_follows_the_probe(core, namespace):
    """A readiness wait sees Ready only once the probe passes, and a bounded wait before that fails."""
    probe = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    core.create_namespaced_pod(namespace, pod_manifest("gated", ["/bin/sleep", "infinity"], readinessProbe=probe))
    wait_phase(core, namespace, "gated")

    def ready():
        pod = core.read_namespaced_pod("gated", namespace)
        cond = [c.status for c in pod.status.conditions or [] if c.type == "Ready"]
        return cond == ["True"], f"Ready={cond}"

    with pytest.raises(WaitTimeout, match=r"Ready=\['False'\]"):
        wait_for(ready, what="pod gated to be Ready", timeout=5)
    stream(core.connect_get_namespaced_pod_exec, "gated", namespace, command=["touch", "/tmp/ready"],
           stderr=True, stdin=False, stdout=True, tty=False)
    started = time.monotonic()
    wait_for(ready, what="pod gated to be Ready", timeout=30)
    assert time.monotonic() - started < 30


def test_an_image_that_is_not_there_is_reported_not_pulled(core, namespace):
    body = pod_manifest("missing", ["true"])
    body["spec"]["containers"][0]["image"] = "localhost/ceph-conformance/not-built:never"
    core.create_namespaced_pod(namespace, body)

    def waiting_reason():
        statuses = core.read_namespaced_pod("missing", namespace).status.container_statuses or []
        reasons = [s.state.waiting.reason for s in statuses if s.state.waiting]
        return "ErrImageNeverPull" in reasons, f"waiting: {reasons}"

    wait_for(waiting_reason, what="the kubelet to say the image is not there", timeout=60)
