"""The test bed: a real Kubernetes API (etcd + kube-apiserver) on this host, in one directory.

`up` builds what the cache lacks, makes the PKI, starts etcd and the API server on free loopback
ports as processes marked with the bed's directory (host/processes.py), waits for each with a
bound, and writes an admin kubeconfig (0600). With nodes (rung 2) everything runs in a network
namespace of the bed's own with no route out (network.py: the seal, made before any process starts),
and it adds kube-controller-manager, kube-scheduler, per node containerd + CNI bridge + kubelet
(node.py), the locally built image imported into each, one kube-proxy for the namespace and CoreDNS
as the cluster DNS (coredns.py). `down` deletes the pods, stops every process carrying the mark in dependency
order, removes leftover containers, mounts and bridges, then the directory: nothing is left.
Everything the bed knows is in state.json, so any process (an xdist worker, the CLI) can attach
to a bed another one started.
"""

import json
import os
import time
from pathlib import Path

import psutil

from ..errors import SetupError
from ..host import processes
from ..host.ports import free_port
from ..host.sweep import stop_marked_processes, sweep_run_dir
from . import build, control_plane, network
from .pki import CertPair

DEFAULT_ROOT = Path("/var/tmp/ceph-conformance-testbed")
MARKER = ".ceph-conformance-testbed"
# Stopped first to last: what uses the API before the API, the API before its store.
STOP_ORDER = ("kubelet", "kube-proxy", "containerd", "containerd-shim-runc-v2", "kube-scheduler",
              "kube-controller-manager", "kube-apiserver", "etcd")
ETCD_READY_S = 60
API_READY_S = 180  # the API server's first start installs every built-in type: slow on 2 busy cores
COMPONENT_READY_S = 90
NODE_READY_S = 120
COREDNS_READY_S = 120
PODS_GONE_S = 90


def _preflight_nodes():
    from ..host.packages import missing

    if os.geteuid() != 0:
        raise SetupError("a test bed with nodes needs root (containerd, runc, the kubelet's cgroups): "
                         "run as root, or without --nodes for the API alone")
    pkgs, programs = missing("testbed")
    if pkgs:
        raise SetupError(f"a test bed with nodes needs {', '.join(programs)}: run 'make deps' "
                         f"(Debian packages {', '.join(pkgs)})")


class TestBed:
    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, directory):
        self.dir = Path(directory)
        self.state_path = self.dir / "state.json"
        self.kubeconfig = self.dir / "admin.kubeconfig"

    # -- what is there -------------------------------------------------------------------------

    def state(self):
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def components(self):
        """{name: alive} for each process the bed started."""
        state = self.state() or {}
        return {name: processes.is_alive(pid, self.dir) for name, pid in state.get("pids", {}).items()}

    def is_up(self):
        state = self.state()
        if not state or not state.get("ready"):
            return False
        alive = self.components()
        return bool(alive) and all(alive.values())

    def status(self):
        """One line per fact: where it is, each component alive or not, the API's readiness."""
        state = self.state()
        if state is None:
            return [f"no test bed in {self.dir}"]
        lines = [f"test bed {self.dir}: Kubernetes {state['version']}, API {state['server']}",
                 f"kubeconfig: {self.kubeconfig}"]
        lines += [f"{name}: {'running' if alive else 'NOT running'}" for name, alive in self.components().items()]
        if state.get("ready"):
            try:
                _ready, said = network.inside(self.network(state), control_plane.apiserver_probe(
                    self.pki(), state["ports"]["apiserver"]))()
            except OSError as exc:
                said = f"{type(exc).__name__}: {exc}"
            lines.append(f"readyz: {said}")
        return lines

    def network(self, state=None):
        """The bed's network namespace (a bed with nodes), or None (the API alone, on the host's loopback)."""
        d = (state if state is not None else (self.state() or {})).get("network")
        return network.BedNetwork.from_state(d) if d else None

    def pki(self):
        d = self.dir / "pki"

        def pair(name):
            return CertPair(d / f"{name}.crt", d / f"{name}.key")

        return control_plane.Pki(ca=d / "ca.crt", etcd_server=pair("etcd"), etcd_client=pair("apiserver-etcd-client"),
                                 api_server=pair("apiserver"), kubelet_client=pair("apiserver-kubelet-client"),
                                 admin=pair("admin"), sa_key=d / "sa.key", sa_pub=d / "sa.pub")

    # -- up and down ---------------------------------------------------------------------------

    def up(self, progress=print, nodes=0, owner_pid=None, kept=False):
        """Bring the bed up (or find it up) with that many nodes (0: the API alone); returns its state.
        On failure everything started is removed.

        owner_pid: the process whose end makes the bed a leftover (default this one); kept: a bed
        meant to outlive its owner (the CLI's), which only `down` removes."""
        self._owner = {"pid": owner_pid or os.getpid(), "kept": kept}
        if self.is_up() and len(self.state().get("nodes", [])) >= nodes:
            progress(f"test bed already up in {self.dir}")
            return self.state()
        if self.dir.exists():
            why = "it has fewer nodes than asked" if self.is_up() else "what a bed that died left"
            for line in self.down(progress=lambda _m: None):
                progress(f"removed the test bed in {self.dir} ({why}): {line}")
        if nodes:
            _preflight_nodes()
        started = time.monotonic()
        built = build.ensure_built(build.API_BINARIES + (build.NODE_BINARIES if nodes else ()), progress)
        image = None
        if nodes:
            from . import coredns
            from .image import ensure_image

            image = ensure_image(progress)
            built.update(coredns.ensure_built(progress))
            self._coredns_archive = coredns.ensure_image(progress)
        try:
            state = self._start(progress, built, sealed=bool(nodes))
            if nodes:
                self._start_nodes(state, nodes, image, progress)
                self._start_cluster_network(state, progress)
        except BaseException:
            progress("bring-up failed: removing what it started")
            self.down(progress=lambda _m: None)
            raise
        progress(f"test bed up in {time.monotonic() - started:.1f}s: KUBECONFIG={self.kubeconfig}")
        return state

    def _start(self, progress, built, sealed=False):
        self.dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.dir.mkdir(mode=0o700)
        owner = getattr(self, "_owner", {"pid": os.getpid(), "kept": False})
        try:
            owner["create_time"] = psutil.Process(owner["pid"]).create_time()
        except psutil.Error:
            owner["create_time"] = None
        (self.dir / MARKER).write_text(json.dumps(owner))
        (self.dir / "log").mkdir()
        self._net = net = None
        if sealed:
            from filelock import FileLock

            from .node import HOST_DIRS

            # Before the namespace exists: what of /run/netns and /run/containerd the bed must remove.
            self._host_dirs_before = {str(d): d.exists() for d in HOST_DIRS}
            t0 = time.monotonic()
            with FileLock(str(build.cache_root() / "network.lock")):  # two beds never pick one /30
                self._net = net = network.allocate(self.dir)
                self._save({"version": build.kubernetes_version(), "server": "", "ports": {}, "pids": {},
                            "network": net.to_state(), "host_dirs_before": self._host_dirs_before})
                network.create(net)
            progress(f"network namespace {net.name} made in {time.monotonic() - t0:.1f}s (no route out; the host "
                     f"reaches it at {net.bed_addr} through veth {net.veth_host}; guard on {net.uplink})")
        t0 = time.monotonic()
        pki = control_plane.make_pki(self.dir / "pki", extra_api_sans=(net.bed_addr,) if net else ())
        progress(f"PKI made in {time.monotonic() - t0:.1f}s (CA, etcd, API server, admin, service-account keys)")
        ports = {"etcd": free_port(), "etcd_peer": free_port(), "apiserver": free_port()}
        if len(set(ports.values())) != len(ports):
            raise SetupError("could not find three distinct free loopback ports: try again")
        host = net.bed_addr if net else "127.0.0.1"
        state = {"version": build.kubernetes_version(), "server": f"https://{host}:{ports['apiserver']}",
                 "ports": ports, "pids": {}, "kubeconfig": str(self.kubeconfig), "ready": False,
                 "built_s": {k: round(v, 1) for k, v in built.items()}, "phases_s": {}}
        if net is not None:
            state.update(network=net.to_state(), host_dirs_before=self._host_dirs_before)

        t0 = time.monotonic()
        self._launch(state, "etcd", control_plane.etcd_argv(build.binary("etcd"), self.dir / "etcd", pki,
                                                            ports["etcd"], ports["etcd_peer"]))
        control_plane.wait_ready("etcd", state["pids"]["etcd"], self.dir, self.dir / "log/etcd.log",
                                 network.inside(net, control_plane.etcd_probe(pki, ports["etcd"])), ETCD_READY_S)
        state["phases_s"]["etcd"] = round(time.monotonic() - t0, 1)
        progress(f"etcd ready on 127.0.0.1:{ports['etcd']} in {state['phases_s']['etcd']}s")

        t0 = time.monotonic()
        self._launch(state, "kube-apiserver", control_plane.apiserver_argv(
            build.binary("kube-apiserver"), pki, ports["apiserver"], ports["etcd"], self.dir / "apiserver-certs",
            advertise=net.bed_addr if net else None))
        control_plane.wait_ready("kube-apiserver", state["pids"]["kube-apiserver"], self.dir,
                                 self.dir / "log/kube-apiserver.log",
                                 network.inside(net, control_plane.apiserver_probe(pki, ports["apiserver"])),
                                 API_READY_S)
        state["phases_s"]["kube-apiserver"] = round(time.monotonic() - t0, 1)
        progress(f"kube-apiserver ready on {state['server']} in {state['phases_s']['kube-apiserver']}s")

        from .kubeconfig import write_kubeconfig

        write_kubeconfig(self.kubeconfig, state["server"], pki.ca, pki.admin, "admin")
        state["ready"] = True
        self._save(state)
        return state

    def _start_nodes(self, state, count, image_archive, progress):
        """Rung 2: controller-manager and scheduler, then each node (containerd, CNI, kubelet), Ready."""
        from kubernetes import client

        from . import node as nodes
        from .apply import api_client
        from .image import IMAGE
        from .kubeconfig import write_kubeconfig
        from .pki import CertificateAuthority

        pki_dir = self.dir / "pki"
        ca = CertificateAuthority(pki_dir)
        for name, user in (("kube-controller-manager", "system:kube-controller-manager"),
                           ("kube-scheduler", "system:kube-scheduler"), ("kube-proxy", "system:kube-proxy")):
            pair = ca.issue(name, user, client=True)
            write_kubeconfig(self.dir / f"{name}.kubeconfig", state["server"], ca.cert_path, pair, user)
        t0 = time.monotonic()
        ports = state["ports"]
        ports.update(controller_manager=free_port(), scheduler=free_port())
        self._launch(state, "kube-controller-manager", control_plane.controller_manager_argv(
            build.binary("kube-controller-manager"), self.pki(), self.dir / "kube-controller-manager.kubeconfig",
            ports["controller_manager"], self.dir / "controller-manager-certs"))
        self._launch(state, "kube-scheduler", control_plane.scheduler_argv(
            build.binary("kube-scheduler"), self.dir / "kube-scheduler.kubeconfig", ports["scheduler"],
            self.dir / "scheduler-certs"))
        for name, port in (("kube-controller-manager", ports["controller_manager"]),
                           ("kube-scheduler", ports["scheduler"])):
            control_plane.wait_ready(name, state["pids"][name], self.dir, self.dir / "log" / f"{name}.log",
                                     self._inside(control_plane.healthz_probe(port)), COMPONENT_READY_S)
        progress(f"kube-controller-manager and kube-scheduler ready in {time.monotonic() - t0:.1f}s")

        api = api_client(self.kubeconfig)
        core = client.CoreV1Api(api)
        state["nodes"] = []
        state.setdefault("host_dirs_before", {str(d): d.exists() for d in nodes.HOST_DIRS})
        try:
            for index in range(1, count + 1):
                t0 = time.monotonic()
                layout = nodes.NodeLayout(index, self.dir / "nodes" / str(index))
                nodes.check_paths(layout)
                client_pair, serving = nodes.make_node_pki(pki_dir, layout)
                layout.dir.mkdir(parents=True, mode=0o700)
                write_kubeconfig(layout.kubeconfig, state["server"], ca.cert_path, client_pair,
                                 f"system:node:{layout.name}")
                port, healthz = free_port(), free_port()
                nodes.write_node_files(layout, IMAGE, ca.cert_path, serving, port, healthz)
                nodes.make_cgroups(layout)
                state["nodes"].append({"index": index, "name": layout.name, "dir": str(layout.dir), "port": port})
                pid = self._launch(state, f"containerd-{index}", nodes.containerd_argv(layout))
                control_plane.wait_ready(f"containerd of node {layout.name}", pid, self.dir,
                                         self.dir / "log" / f"containerd-{index}.log",
                                         nodes.containerd_probe(layout), COMPONENT_READY_S)
                nodes.import_image(layout, image_archive)
                pid = self._launch(state, f"kubelet-{index}", nodes.kubelet_argv(build.binary("kubelet"), layout))
                control_plane.wait_ready(f"kubelet of node {layout.name}", pid, self.dir,
                                         self.dir / "log" / f"kubelet-{index}.log",
                                         self._inside(control_plane.plain_healthz_probe(healthz)),
                                         COMPONENT_READY_S)
                nodes.wait_node_ready(core, layout.name, NODE_READY_S)
                progress(f"node {layout.name} Ready in {time.monotonic() - t0:.1f}s (containerd, CNI bridge "
                         f"{layout.bridge}, kubelet on {layout.name}:{port})")
        finally:
            api.close()
        self._save(state)

    def _start_cluster_network(self, state, progress):
        """kube-proxy (one for the namespace every node shares), then CoreDNS as the cluster DNS."""
        import yaml

        from . import coredns
        from . import node as nodes

        t0 = time.monotonic()
        ports = state["ports"]
        ports.update(kube_proxy_healthz=free_port(), kube_proxy_metrics=free_port())
        config = self.dir / "kube-proxy.yaml"
        first = self._layouts(state)[0]
        config.write_text(yaml.safe_dump(nodes.kube_proxy_config(
            first, self.dir / "kube-proxy.kubeconfig", ports["kube_proxy_healthz"], ports["kube_proxy_metrics"])))
        pid = self._launch(state, "kube-proxy", nodes.kube_proxy_argv(build.binary("kube-proxy"), config))
        control_plane.wait_ready("kube-proxy", pid, self.dir, self.dir / "log" / "kube-proxy.log",
                                 self._inside(control_plane.plain_healthz_probe(ports["kube_proxy_healthz"])),
                                 COMPONENT_READY_S)
        state["phases_s"]["kube-proxy"] = round(time.monotonic() - t0, 1)
        progress(f"kube-proxy (iptables mode) ready in {state['phases_s']['kube-proxy']}s")

        t0 = time.monotonic()
        for layout in self._layouts(state):
            nodes.import_image(layout, self._coredns_archive)
        coredns.deploy(self.kubeconfig, COREDNS_READY_S)
        state["phases_s"]["coredns"] = round(time.monotonic() - t0, 1)
        progress(f"CoreDNS {coredns.VERSION} ready as {nodes.CLUSTER_DNS} (kube-dns) in "
                 f"{state['phases_s']['coredns']}s")
        self._save(state)

    def _inside(self, probe):
        return network.inside(getattr(self, "_net", None), probe)

    def _launch(self, state, name, argv):
        net = getattr(self, "_net", None)
        if net is not None:
            argv = [*network.nsenter(net), *argv]
        pid = processes.start(argv, self.dir / "log" / f"{name}.log", self.dir)
        state["pids"][name] = pid
        self._save(state)  # a crash from here on leaves a state a later `down` can read
        return pid

    def _save(self, state):
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.state_path)

    def _stop_pods(self, state):
        """Delete every pod through the API and wait (bounded) until the kubelets have stopped them:
        that tears their networks down the CRI way. What stays is removed below, harder."""
        from kubernetes import client

        from ..waits import WaitTimeout, wait_for
        from .apply import api_client

        if not (self.kubeconfig.exists() and processes.is_alive(state["pids"].get("kube-apiserver", -1), self.dir)):
            return []
        api = api_client(self.kubeconfig)
        core = client.CoreV1Api(api)
        try:
            pods = core.list_pod_for_all_namespaces().items
            for pod in pods:
                core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, grace_period_seconds=1)

            def gone():
                left = [f"{p.metadata.namespace}/{p.metadata.name}" for p in core.list_pod_for_all_namespaces().items]
                return not left, f"still there: {', '.join(left[:5])}"

            wait_for(gone, what="the test bed's pods to be stopped", timeout=PODS_GONE_S)
            return [f"{len(pods)} pods deleted"] if pods else []
        except (WaitTimeout, OSError, client.exceptions.ApiException) as exc:
            return [f"pods not all stopped through the API ({exc}); removing their containers directly"]
        finally:
            api.close()

    def import_image(self, archive):
        """Import an OCI archive (an image variant built after bring-up) into every node's containerd."""
        from . import node as nodes

        for layout in self._layouts(self.state()):
            nodes.import_image(layout, archive)

    def _layouts(self, state):
        from .node import NodeLayout

        return [NodeLayout(n["index"], Path(n["dir"])) for n in state.get("nodes", [])]

    def _remove_containers(self, state):
        from .node import remove_leftover_containers

        done = []
        for layout in self._layouts(state):
            if layout.socket.exists() and processes.is_alive(state["pids"].get(f"containerd-{layout.index}", -1),
                                                             self.dir):
                done += remove_leftover_containers(layout)
        return done

    def _remove_bridges(self, state):
        from .node import delete_bridge, remove_cgroups, remove_host_dir_if_ours

        bridges = self.network(state) is None  # else they were in the bed's namespace, gone with it
        done = [line for layout in self._layouts(state)
                for line in (delete_bridge(layout) if bridges else []) + remove_cgroups(layout)]
        for path, existed in state.get("host_dirs_before", {}).items():
            done += remove_host_dir_if_ours(path, existed)
        return done

    def down(self, progress=print):
        """Stop every process of the bed, in order, and remove its directory. Returns what was done."""
        if not self.dir.exists():
            progress(f"no test bed in {self.dir}")
            return []
        if not (self.dir / MARKER).exists():
            raise SetupError(f"{self.dir} is not a test bed's directory (no {MARKER}): left alone")
        t0 = time.monotonic()
        state = self.state() or {}
        # No controller may recreate the pods deleted next (a Deployment whose image is not there).
        done = stop_marked_processes(str(self.dir), ("kube-controller-manager", "kube-scheduler"), timeout=20.0)
        done += self._stop_pods(state) if state.get("nodes") else []
        done += stop_marked_processes(str(self.dir), ("kubelet",), timeout=20.0)
        done += self._remove_containers(state)
        done += stop_marked_processes(str(self.dir), STOP_ORDER, timeout=20.0)
        done += sweep_run_dir(self.dir)
        net = self.network(state)
        if net is not None:
            # The bridges and kube-proxy's rules go with the namespace; the guard said what it counted.
            done += network.destroy(net)
        done += self._remove_bridges(state)
        for line in done:
            progress(line)
        if self.dir.exists() or processes.pids_with_marker(self.dir) or any("could not" in d for d in done):
            raise SetupError(f"test bed teardown left things behind: {'; '.join(done)}")
        progress(f"test bed in {self.dir} removed in {time.monotonic() - t0:.1f}s")
        return done


def owner_alive(owner):
    try:
        proc = psutil.Process(owner["pid"])
        return owner.get("create_time") is None or abs(proc.create_time() - owner["create_time"]) < 1
    except (psutil.Error, KeyError, TypeError):
        return False


def sweep_dead_beds(root, progress=print):
    """Tear down the beds under root whose owner process is gone (a killed test session) and that
    were not kept; returns their directories."""
    swept = []
    for marker in sorted(Path(root).glob(f"*/{MARKER}")):
        try:
            owner = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if owner.get("kept") or owner_alive(owner):
            continue
        progress(f"removing a test bed whose owner (pid {owner.get('pid')}) is gone: {marker.parent}")
        TestBed(marker.parent).down(progress=progress)
        swept.append(marker.parent)
    return swept
