"""The Kubernetes targets' logic that needs no cluster: preflight lines, the kind config, labels
for the sweep, the exec status, the object store's endpoint and keys, the API client on real
kubeconfig files (one broken, one pointing at a closed port)."""

import socket

import pytest

from ceph_conformance import secrets
from ceph_conformance.errors import CommandError, SetupError
from ceph_conformance.options import RunOptions
from ceph_conformance.targets import TARGETS
from ceph_conformance.targets.kind import _engine_answers
from ceph_conformance.targets.kubeconfig import KubeconfigTarget
from ceph_conformance.targets.rook import kind_config, labels, objectstore, preflight
from ceph_conformance.targets.rook.kube import Kube, api_client, exit_status
from ceph_conformance.targets.rook.tools import ToolboxCephTools


def test_the_kubernetes_targets_are_registered():
    assert {"kind", "vagrant", "kubeconfig"} <= set(TARGETS)


# -- preflight: one line each ------------------------------------------------------------------------

@pytest.mark.parametrize("version, message", [
    ("1.20", "--rook-version 1.20: give a Rook release like 1.20.6"),
    ("1.14.9", "--rook-version 1.14.9: the suite installs Rook 1.12, 1.18, 1.19, 1.20"),
])
def test_an_unusable_rook_version_is_one_line(version, message):
    with pytest.raises(SetupError, match=message.replace(".", r"\.")):
        preflight.rook_version(version)


def test_an_unsupported_kubernetes_version_says_the_range():
    preflight.kubernetes_supported((1, 20, 6), 1, 31, "v1.31.0")
    preflight.kubernetes_supported((1, 20, 6), 1, 36, "v1.36.2")
    with pytest.raises(SetupError) as err:
        preflight.kubernetes_supported((1, 20, 6), 1, 30, "v1.30.4")
    assert str(err.value) == ("Kubernetes v1.30.4 is outside the range Rook 1.20.6 documents (1.31 to 1.36): use a "
                              "cluster in that range, another --rook-version, or --allow-unsupported-kubernetes to "
                              "run anyway")


def test_rook_112_on_the_beds_kubernetes_is_one_line_and_carries_on_when_allowed():
    assert preflight.kubernetes_supported((1, 12, 11), 1, 22, "v1.22.0") is None
    assert preflight.kubernetes_supported((1, 12, 11), 1, 28, "v1.28.15") is None
    with pytest.raises(SetupError) as err:
        preflight.kubernetes_supported((1, 12, 11), 1, 36, "v1.36.3")
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("Kubernetes v1.36.3 is outside the range Rook 1.12.11 documents (1.22 to 1.28)")
    line = preflight.kubernetes_supported((1, 12, 11), 1, 36, "v1.36.3", allow=True)
    assert line == ("Kubernetes v1.36.3 is outside the range Rook 1.12.11 documents (1.22 to 1.28); carrying on "
                    "as --allow-unsupported-kubernetes asks")
    assert preflight.rook_version("1.12.11") == (1, 12, 11)


def test_missing_programs_and_engines_are_named():
    with pytest.raises(SetupError, match="no `vagrant` on PATH: install it"):
        preflight.programs(["vagrant"], "install it", which=lambda _: None)
    preflight.programs(["sh"], "never said")
    with pytest.raises(SetupError, match="no `podman` on PATH"):
        preflight.container_engine(which=lambda _: None, env={"KIND_EXPERIMENTAL_PROVIDER": "podman"})
    assert preflight.container_engine(which=lambda name: f"/usr/bin/{name}", env={}) == "docker"


def test_an_engine_that_does_not_answer_is_one_line():
    # `false info` fails as a docker without its daemon does: installed, but no engine behind it.
    with pytest.raises(SetupError) as err:
        _engine_answers("false")
    assert str(err.value).startswith("false is installed but its engine does not answer")
    assert "\n" not in str(err.value)


def test_loop_devices_and_kubeconfig_files(tmp_path):
    with pytest.raises(SetupError, match="needs 12 loop devices and only 0 can be had"):
        preflight.loop_devices(12, 0, "--nodes 4 x --osds-per-node 3")
    preflight.loop_devices(3, 3, "x")
    assert preflight.free_loop_devices(5, can_find=lambda: True) == 5
    assert preflight.free_loop_devices(5, can_find=lambda: False) == 0
    with pytest.raises(SetupError, match="no such file"):
        preflight.kubeconfig_file(tmp_path / "nope")


def test_a_broken_kubeconfig_is_one_line(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    with pytest.raises(SetupError) as err:
        api_client(path)
    assert str(err.value).startswith(f"--kubeconfig {path}: not a usable kubeconfig")
    assert "\n" not in str(err.value)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when we return: nothing listens there


def _kubeconfig_to(tmp_path, server):
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: not-a-real-token-0123456789}}}}]
contexts: [{{name: ctx, context: {{cluster: c, user: u}}}}]
current-context: ctx
""")
    return path


def test_an_unreachable_api_is_one_line(tmp_path):
    server = f"https://127.0.0.1:{_closed_port()}"
    kube = Kube(api_client(_kubeconfig_to(tmp_path, server)))
    with pytest.raises(SetupError) as err:
        kube.server_version(timeout=5)
    assert str(err.value).startswith(f"cannot reach the Kubernetes API at {server}")
    assert "\n" not in str(err.value)


def test_the_kubeconfig_targets_preflight_stops_at_an_unreachable_api(tmp_path):
    options = RunOptions(target="kubeconfig", kubeconfig=str(_kubeconfig_to(tmp_path, f"https://127.0.0.1:{_closed_port()}")),
                         rook_namespace="rook-ceph")
    with pytest.raises(SetupError, match="cannot reach the Kubernetes API"):
        KubeconfigTarget(options).preflight()


def test_an_unknown_context_is_one_line(tmp_path):
    with pytest.raises(SetupError, match="--context nope: not a usable kubeconfig"):
        api_client(_kubeconfig_to(tmp_path, "https://127.0.0.1:1"), "nope")


# -- the kind cluster config ---------------------------------------------------------------------------

def test_every_kind_worker_sees_devices_udev_and_its_own_rook_dir(tmp_path):
    workers = kind_config.worker_names("cconf-x", 3)
    assert workers == ["cconf-x-worker", "cconf-x-worker2", "cconf-x-worker3"]
    config = kind_config.kind_config(workers, {w: tmp_path / w for w in workers})
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker", "worker"]
    rook_dirs = set()
    for node, worker in zip(config["nodes"][1:], workers, strict=True):
        mounts = {m["containerPath"]: m for m in node["extraMounts"]}
        assert mounts["/dev"]["hostPath"] == "/dev" and mounts["/dev"]["propagation"] == "HostToContainer"
        assert mounts["/run/udev"]["propagation"] == "HostToContainer"
        rook_dirs.add(mounts["/var/lib/rook"]["hostPath"])
        assert mounts["/var/lib/rook"]["hostPath"] == str(tmp_path / worker)
    assert len(rook_dirs) == 3  # nodes on one host never share a mon's or OSD's state


# -- labels: what teardown and the sweep select ----------------------------------------------------------

def test_selection_is_by_the_runs_label_only():
    assert labels.selector("20261201-080433-ab12") == "ceph-conformance/run=20261201-080433-ab12"
    assert labels.dead_run_selector({"b", "a"}) == "ceph-conformance/run,ceph-conformance/run notin (a,b)"
    assert labels.dead_run_selector(set()) == "ceph-conformance/run"
    doc = {"kind": "Deployment", "metadata": {"name": "x", "labels": {"app": "x"}},
           "spec": {"template": {"metadata": {"labels": {"app": "x"}}}}}
    marked = labels.mark(doc, "r1", "apps")
    assert marked["metadata"]["labels"] == {"app": "x", labels.RUN_LABEL: "r1", labels.PART_LABEL: "apps"}
    assert marked["spec"]["template"]["metadata"]["labels"][labels.RUN_LABEL] == "r1"
    assert doc["metadata"]["labels"] == {"app": "x"}, "the document read is left as it was"
    assert labels.run_of(marked) == "r1" and labels.run_of(doc) is None


# -- exec and the toolbox -----------------------------------------------------------------------------

def test_the_exit_status_of_an_exec():
    assert exit_status(b"") == 0
    assert exit_status(b'{"metadata":{},"status":"Success"}') == 0
    failure = (b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code",'
               b'"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"22"}]}}')
    assert exit_status(failure) == 22
    assert exit_status(b'{"status":"Failure","message":"exec: \\"rbdx\\": executable file not found"}') == 126


def test_the_toolbox_runs_only_cephs_tools():
    tools = ToolboxCephTools(kube=None, namespace="rook-ceph", pod_finder=lambda: "never-asked")
    with pytest.raises(CommandError, match="sh: not one of Ceph's tools"):
        tools.run("sh", ["-c", "rm -rf /"])


def test_no_toolbox_pod_is_a_command_error_saying_so():
    def finder():
        raise SetupError("no ready toolbox pod (cconf-x-tools) in rook-ceph: 1 of 1 pod(s) not ready: ...")

    tools = ToolboxCephTools(kube=None, namespace="rook-ceph", pod_finder=finder)
    with pytest.raises(CommandError, match="no ready toolbox pod"):
        tools.run("ceph", ["status"])


# -- the object store -------------------------------------------------------------------------------

def test_the_s3_endpoint_is_a_nodes_address_and_the_node_port():
    nodes = [{"status": {"addresses": [{"type": "Hostname", "address": "w1"}, {"type": "InternalIP",
                                                                                "address": "172.18.0.3"}]}}]
    service = {"metadata": {"name": "s3-external"}, "spec": {"ports": [{"port": 80, "nodePort": 30123}]}}
    assert objectstore.endpoint_of(nodes, service) == "http://172.18.0.3:30123"
    with pytest.raises(SetupError, match="has no node port"):
        objectstore.endpoint_of(nodes, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    with pytest.raises(SetupError, match="no node of the cluster has an InternalIP"):
        objectstore.endpoint_of([{"status": {"addresses": []}}], service)
    # --node-address: where this host reaches the node ports (the test bed's end of its veth).
    assert objectstore.endpoint_of(nodes, service, "10.254.0.2") == "http://10.254.0.2:30123"
    assert objectstore.endpoint_of([{"status": {"addresses": []}}], service, "10.254.0.2") == "http://10.254.0.2:30123"


def test_keys_from_a_secret_are_registered_before_anyone_can_print_them():
    data = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-from-the-obc-secret-42"}
    creds = objectstore.credentials_from_secret("claim", data, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    assert creds.secret_key == "s3cr3t-from-the-obc-secret-42"
    assert secrets.scrub("key s3cr3t-from-the-obc-secret-42 leaked") == "key *** leaked"
    assert "s3cr3t" not in repr(creds)
    with pytest.raises(SetupError, match="no S3 keys"):
        objectstore.credentials_from_secret("u", {"AccessKey": "a"})


# -- the sweep of crashed runs ------------------------------------------------------------------------

def _crashed_run(root, run_id, record):
    import json

    from ceph_conformance import records
    from ceph_conformance.host.sweep import MARKER

    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    (run_dir / MARKER).write_text(json.dumps({"run_id": run_id, "pid": 2**22 + 12345, "create_time": 1.0}))
    if record is not None:
        records.write_record(run_dir / "rook-target.json", record)
    return run_dir


def test_a_crashed_run_whose_cluster_cannot_be_reached_is_kept_for_a_later_sweep(tmp_path):
    from ceph_conformance.targets.rook.settings import RookSettings

    kubeconfig = _kubeconfig_to(tmp_path, f"https://127.0.0.1:{_closed_port()}")
    settings = RookSettings("20261201-000000-dead", nodes={}, namespace="rook-ceph")
    import dataclasses

    crashed = _crashed_run(tmp_path / "runs", "20261201-000000-dead",
                           {"target": "kubeconfig", "kubeconfig": str(kubeconfig), "context": None,
                            "settings": dataclasses.asdict(settings)})
    other = _crashed_run(tmp_path / "runs", "20261201-000000-0ca1", None)  # a local run: not this target's
    said = []
    target = KubeconfigTarget(RunOptions(target="kubeconfig", kubeconfig=str(kubeconfig), rook_namespace="rook-ceph"))
    target.sweep_crashed_runs(tmp_path / "runs", said.append)
    assert crashed.is_dir() and other.is_dir()
    assert len(said) == 1 and said[0].startswith("could not sweep the crashed run 20261201-000000-dead")
