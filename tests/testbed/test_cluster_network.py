"""The bed's cluster network, for real: its own network namespace sealed from the outside,
kube-proxy (iptables mode) carrying Services between the nodes' bridges, CoreDNS answering the
cluster's names, and the API reached from pods through the `kubernetes` Service with a token.

The seal is proven without sending anything that could leave if it were broken: `ip route get`
(the kernel's routing decision, nothing sent) from the host, from a pod and from a hostNetwork
pod, and the guard (iptables rules in the host's OUTPUT and FORWARD matching the bed's ranges on
the outside interface) still at zero packets.
"""

import ipaddress
import json
import re
import shlex

import pytest
from kubernetes import client
from kubernetes.stream import stream

from ceph_conformance.run import new_run_id
from ceph_conformance.testbed import network
from ceph_conformance.testbed.image import IMAGE
from ceph_conformance.testbed.node import CLUSTER_DNS
from ceph_conformance.waits import wait_for

RUN = new_run_id()
LABELS = {"ceph-conformance/run": RUN}
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# A one-line HTTP server (perl-base is in every Debian root filesystem) on all the pod's addresses.
HTTP_SERVER = ("use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => 8080, "
               "Listen => 5, ReuseAddr => 1) or die $!; $| = 1; print \"listening\\n\"; "
               "while (my $c = $s->accept) { while (my $l = <$c>) { last if $l =~ /^\\r?\\n$/ } "
               "my $b = \"served by $ENV{HOSTNAME}\\n\"; "
               "print $c \"HTTP/1.0 200 OK\\r\\nContent-Length: \" . length($b) . \"\\r\\n\\r\\n$b\"; close $c }")


@pytest.fixture(scope="module")
def core(kube_api, bed_nodes):
    if len(bed_nodes) < 2:
        pytest.skip("the cluster network's tests need two nodes")
    return client.CoreV1Api(kube_api)


@pytest.fixture(scope="module")
def net(testbed, core):
    found = testbed.network()
    assert found is not None, "a bed with nodes runs in a network namespace of its own"
    return found


def run(core, namespace, pod, argv, timeout=60):
    """(exit status, stdout, stderr) of argv exec'd in the pod."""
    resp = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=argv, stderr=True, stdin=False,
                  stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=timeout)
    return resp.returncode, resp.read_stdout(), resp.read_stderr()


def pod(name, node, command, *, host_network=False, account=None, labels=None, **container):
    spec = {"nodeName": node, "terminationGracePeriodSeconds": 1, "hostNetwork": host_network,
            "containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": command,
                            **container}]}
    if account:
        spec["serviceAccountName"] = account
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {**LABELS, **(labels or {})}},
            "spec": spec}


def wait_ready(core, namespace, names, timeout=120):
    def probe():
        seen = {}
        for name in names:
            p = core.read_namespaced_pod(name, namespace)
            ready = [c.status for c in p.status.conditions or [] if c.type == "Ready"] == ["True"]
            waiting = [s.state.waiting.reason for s in p.status.container_statuses or [] if s.state.waiting]
            seen[name] = "Ready" if ready else f"{p.status.phase} {waiting}"
        return all(v == "Ready" for v in seen.values()), str(seen)

    wait_for(probe, what=f"pods {', '.join(names)} to be Ready", timeout=timeout)


@pytest.fixture(scope="module")
def cluster(kube_api, core, bed_nodes):
    """A namespace with: a client pod on node A whose ServiceAccount may list namespaces, an HTTP server
    on node B behind a Service (its only endpoint), and a hostNetwork pod on node A."""
    rbac = client.RbacAuthorizationV1Api(kube_api)
    ns = f"cconf-net-{RUN}"
    role = f"cconf-ns-reader-{RUN}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns, labels=LABELS)))
    try:
        wait_for(lambda: (any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account(ns).items),
                          "no default ServiceAccount yet"), what=f"the default ServiceAccount in {ns}", timeout=60)
        core.create_namespaced_service_account(ns, {"metadata": {"name": "lister", "labels": LABELS}})
        rbac.create_cluster_role({"metadata": {"name": role, "labels": LABELS},
                                  "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}]})
        rbac.create_cluster_role_binding({
            "metadata": {"name": role, "labels": LABELS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "lister", "namespace": ns}]})
        node_a, node_b = bed_nodes[0], bed_nodes[1]
        core.create_namespaced_pod(ns, pod("client-a", node_a, ["/bin/sleep", "infinity"], account="lister"))
        core.create_namespaced_pod(ns, pod("server-b", node_b, ["perl", "-e", HTTP_SERVER], labels={"app": "web"},
                                           readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1}))
        core.create_namespaced_pod(ns, pod("hostnet-a", node_a, ["/bin/sleep", "infinity"], host_network=True))
        core.create_namespaced_service(ns, {"metadata": {"name": "web", "labels": LABELS},
                                            "spec": {"selector": {"app": "web"},
                                                     "ports": [{"port": 80, "targetPort": 8080}]}})
        wait_ready(core, ns, ["client-a", "server-b", "hostnet-a"])
        yield {"ns": ns, "node_a": node_a, "node_b": node_b}
    finally:
        for delete in (lambda: rbac.delete_cluster_role_binding(role), lambda: rbac.delete_cluster_role(role),
                       lambda: core.delete_namespace(ns)):
            try:
                delete()
            except client.exceptions.ApiException as exc:
                if exc.status != 404:
                    raise
        wait_for(lambda: (ns not in [n.metadata.name for n in core.list_namespace().items], "still Terminating"),
                 what=f"namespace {ns} to be deleted", timeout=120)


def test_coredns_serves_the_kube_dns_service(core):
    svc = core.read_namespaced_service("kube-dns", "kube-system")
    assert svc.spec.cluster_ip == CLUSTER_DNS
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    assert [p.status.phase for p in pods] == ["Running"], [(p.metadata.name, p.status.phase) for p in pods]


def test_a_pod_resolves_the_api_and_lists_namespaces_with_its_token(core, cluster):
    ns = cluster["ns"]
    rc, out, err = run(core, ns, "client-a", ["getent", "hosts", "kubernetes.default.svc.cluster.local"])
    assert rc == 0 and out.split()[0] == "10.0.0.1", (rc, out, err)
    rc, out, err = run(core, ns, "client-a", ["getent", "hosts", f"web.{ns}.svc"])  # the search path, too
    web = core.read_namespaced_service("web", ns)
    assert rc == 0 and out.split()[0] == web.spec.cluster_ip, (rc, out, err)

    curl = (f"curl -sS --max-time 20 --cacert {SA_DIR}/ca.crt -H \"Authorization: Bearer $(cat {SA_DIR}/token)\" "
            "https://kubernetes.default.svc/api/v1/namespaces")
    rc, out, err = run(core, ns, "client-a", ["sh", "-c", curl])
    assert rc == 0, (rc, out, err)
    names = [item["metadata"]["name"] for item in json.loads(out)["items"]]
    assert ns in names and "kube-system" in names, names
    # The token is what lets it in: the same request without it is refused (anonymous access is off).
    rc, out, err = run(core, ns, "client-a", ["sh", "-c", f"curl -sS --max-time 20 -o /dev/null -w '%{{http_code}}' "
                                                          f"--cacert {SA_DIR}/ca.crt https://kubernetes.default.svc"
                                                          "/api/v1/namespaces"])
    assert rc == 0 and out.strip() == "401", (rc, out, err)


def test_a_pod_on_node_a_reads_from_a_service_whose_only_endpoint_is_on_node_b(core, cluster):
    ns = cluster["ns"]
    client_pod, server_pod = (core.read_namespaced_pod(n, ns) for n in ("client-a", "server-b"))
    assert (client_pod.spec.node_name, server_pod.spec.node_name) == (cluster["node_a"], cluster["node_b"])
    slices = client.DiscoveryV1Api(core.api_client).list_namespaced_endpoint_slice(
        ns, label_selector="kubernetes.io/service-name=web").items
    addresses = [a for s in slices for e in s.endpoints or [] for a in e.addresses]
    assert addresses == [server_pod.status.pod_ip], addresses
    web = core.read_namespaced_service("web", ns)
    rc, out, err = run(core, ns, "client-a", ["curl", "-sS", "--max-time", "20", f"http://{web.spec.cluster_ip}/"])
    assert rc == 0 and out == "served by server-b\n", (rc, out, err)


def _probe_addresses(core, state):
    """An unused ClusterIP, an unused pod address, and the bed's node addresses."""
    used = {s.spec.cluster_ip for s in core.list_service_for_all_namespaces().items}
    unused_ip = next(str(a) for a in reversed(list(ipaddress.ip_network(network.SERVICE_CIDR).hosts()))
                     if str(a) not in used)
    pod_ips = {p.status.pod_ip for p in core.list_pod_for_all_namespaces().items}
    unused_pod = next(f"10.244.{n}.77" for n in range(250, 2, -1) if f"10.244.{n}.77" not in pod_ips)
    return [unused_ip, unused_pod, *[n["name"] for n in state["nodes"]]]


def test_the_seal_from_the_host_a_pod_and_a_host_network_pod(testbed, core, net, cluster):
    ns = cluster["ns"]
    addresses = _probe_addresses(core, testbed.state())
    seen = {}
    for address in addresses:
        # From the host: into a bed's veth (another bed up beside this one may hold the lower metric),
        # or local (the nodes' loopback addresses).
        route = network.route_get(address)
        seen[f"host {address}"] = route
        assert re.search(r"dev cconf[0-9a-f]{6}h ", route) or route.startswith("local "), seen
        # From a pod: through its bridge's gateway (the bed's namespace), or its own loopback.
        rc, out, err = run(core, ns, "client-a", ["ip", "route", "get", address])
        seen[f"pod {address}"] = (out or err).strip()
        gateway = core.read_namespaced_pod("client-a", ns).status.pod_ip.rsplit(".", 1)[0] + ".1"
        assert f"via {gateway} dev eth0 " in out or out.startswith("local "), seen
        # From the bed's namespace itself: the Service CIDR's sink, a bridge, unreachable, or local.
        rc, out, err = run(core, ns, "hostnet-a", ["ip", "route", "get", address])
        said = (out or err).strip()
        seen[f"hostnet {address}"] = said
        assert (f"dev {net.sink} " in said or said.startswith("local ") or "No route to host" in said
                or "unreachable" in said), seen
    gateway = network.uplink_gateway()
    assert not [k for k, v in seen.items() if gateway and gateway in v], seen  # never the host's default route
    assert not [k for k, v in seen.items() if not k.startswith("pod ") and f"dev {net.uplink} " in f"{v} "], seen
    # The bed's namespace has no way out at all: no default route but an unreachable one, no eth0.
    rc, out, err = run(core, ns, "hostnet-a", ["sh", "-c", "ip route show default; ip -o link"])
    assert out.splitlines()[0].strip() == "unreachable default", out
    assert f" {net.uplink}:" not in out and f" {net.uplink}@" not in out, out
    print("\n".join(f"{k}: {v}" for k, v in seen.items()))


def test_the_guard_counted_nothing(net, cluster):
    """Last of this module (after the pods above talked through Services, DNS and the API)."""
    rules = network.guard_rules(net)
    assert len(rules) == 2 * len(network.GUARDED), rules
    assert all(f"-o {net.uplink}" in rule for rule, _ in rules), rules
    assert [packets for _, packets in rules] == [0] * len(rules), rules


def test_kube_proxys_rules_are_in_the_beds_namespace_not_the_hosts(net, cluster):
    import subprocess

    inside = subprocess.run([*network.nsenter(net), "iptables-save", "-t", "nat"], capture_output=True, text=True,
                            timeout=30).stdout
    host = subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True, timeout=30).stdout
    assert "KUBE-SERVICES" in inside and f"{cluster['ns']}/web" in inside, inside[:500]
    assert f"{cluster['ns']}/web" not in host and shlex.quote(RUN) not in host
