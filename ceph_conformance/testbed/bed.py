"""The test bed: a real Kubernetes API (etcd + kube-apiserver) on this host, in one directory.

`up` builds what the cache lacks, makes the PKI, starts etcd and the API server on free loopback
ports as processes marked with the bed's directory (host/processes.py), waits for each with a
bound, and writes an admin kubeconfig (0600). `down` stops every process carrying the mark, in
dependency order, then removes the directory: nothing is left. Everything the bed knows is in
state.json, so any process (an xdist worker, the CLI) can attach to a bed another one started.
"""

import json
import os
import time
from pathlib import Path

from ..errors import SetupError
from ..host import processes
from ..host.ports import free_port
from ..host.sweep import stop_marked_processes, sweep_run_dir
from . import build, control_plane
from .pki import CertPair

DEFAULT_ROOT = Path("/var/tmp/ceph-conformance-testbed")
MARKER = ".ceph-conformance-testbed"
# Stopped first to last: what uses the API before the API, the API before its store.
STOP_ORDER = ("kubelet", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd")
ETCD_READY_S = 60
API_READY_S = 180  # the API server's first start installs every built-in type: slow on 2 busy cores


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
                _ready, said = control_plane.apiserver_probe(self.pki(), state["ports"]["apiserver"])()
            except OSError as exc:
                said = f"{type(exc).__name__}: {exc}"
            lines.append(f"readyz: {said}")
        return lines

    def pki(self):
        d = self.dir / "pki"

        def pair(name):
            return CertPair(d / f"{name}.crt", d / f"{name}.key")

        return control_plane.Pki(ca=d / "ca.crt", etcd_server=pair("etcd"), etcd_client=pair("apiserver-etcd-client"),
                                 api_server=pair("apiserver"), kubelet_client=pair("apiserver-kubelet-client"),
                                 admin=pair("admin"), sa_key=d / "sa.key", sa_pub=d / "sa.pub")

    # -- up and down ---------------------------------------------------------------------------

    def up(self, progress=print):
        """Bring the bed up (or find it up); returns its state. On failure everything started is removed."""
        if self.is_up():
            progress(f"test bed already up in {self.dir}")
            return self.state()
        if self.dir.exists():
            for line in self.down(progress=lambda _m: None):
                progress(f"removed a dead test bed's leftovers: {line}")
        started = time.monotonic()
        built = build.ensure_built(build.API_BINARIES, progress)
        try:
            state = self._start(progress, built)
        except BaseException:
            progress("bring-up failed: removing what it started")
            self.down(progress=lambda _m: None)
            raise
        progress(f"test bed up in {time.monotonic() - started:.1f}s: KUBECONFIG={self.kubeconfig}")
        return state

    def _start(self, progress, built):
        self.dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.dir.mkdir(mode=0o700)
        (self.dir / MARKER).write_text(json.dumps({"pid": os.getpid()}))
        (self.dir / "log").mkdir()
        t0 = time.monotonic()
        pki = control_plane.make_pki(self.dir / "pki")
        progress(f"PKI made in {time.monotonic() - t0:.1f}s (CA, etcd, API server, admin, service-account keys)")
        ports = {"etcd": free_port(), "etcd_peer": free_port(), "apiserver": free_port()}
        if len(set(ports.values())) != len(ports):
            raise SetupError("could not find three distinct free loopback ports: try again")
        state = {"version": build.kubernetes_version(), "server": f"https://127.0.0.1:{ports['apiserver']}",
                 "ports": ports, "pids": {}, "kubeconfig": str(self.kubeconfig), "ready": False,
                 "built_s": {k: round(v, 1) for k, v in built.items()}, "phases_s": {}}

        t0 = time.monotonic()
        self._launch(state, "etcd", control_plane.etcd_argv(build.binary("etcd"), self.dir / "etcd", pki,
                                                            ports["etcd"], ports["etcd_peer"]))
        control_plane.wait_ready("etcd", state["pids"]["etcd"], self.dir, self.dir / "log/etcd.log",
                                 control_plane.etcd_probe(pki, ports["etcd"]), ETCD_READY_S)
        state["phases_s"]["etcd"] = round(time.monotonic() - t0, 1)
        progress(f"etcd ready on 127.0.0.1:{ports['etcd']} in {state['phases_s']['etcd']}s")

        t0 = time.monotonic()
        self._launch(state, "kube-apiserver", control_plane.apiserver_argv(
            build.binary("kube-apiserver"), pki, ports["apiserver"], ports["etcd"], self.dir / "apiserver-certs"))
        control_plane.wait_ready("kube-apiserver", state["pids"]["kube-apiserver"], self.dir,
                                 self.dir / "log/kube-apiserver.log",
                                 control_plane.apiserver_probe(pki, ports["apiserver"]), API_READY_S)
        state["phases_s"]["kube-apiserver"] = round(time.monotonic() - t0, 1)
        progress(f"kube-apiserver ready on {state['server']} in {state['phases_s']['kube-apiserver']}s")

        from .kubeconfig import write_kubeconfig

        write_kubeconfig(self.kubeconfig, state["server"], pki.ca, pki.admin, "admin")
        state["ready"] = True
        self._save(state)
        return state

    def _launch(self, state, name, argv):
        pid = processes.start(argv, self.dir / "log" / f"{name}.log", self.dir)
        state["pids"][name] = pid
        self._save(state)  # a crash from here on leaves a state a later `down` can read
        return pid

    def _save(self, state):
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.state_path)

    def down(self, progress=print):
        """Stop every process of the bed, in order, and remove its directory. Returns what was done."""
        if not self.dir.exists():
            progress(f"no test bed in {self.dir}")
            return []
        if not (self.dir / MARKER).exists():
            raise SetupError(f"{self.dir} is not a test bed's directory (no {MARKER}): left alone")
        t0 = time.monotonic()
        done = stop_marked_processes(str(self.dir), STOP_ORDER, timeout=20.0)
        done += sweep_run_dir(self.dir)
        for line in done:
            progress(line)
        if self.dir.exists() or processes.pids_with_marker(self.dir):
            raise SetupError(f"test bed teardown left things behind: {'; '.join(done)}")
        progress(f"test bed in {self.dir} removed in {time.monotonic() - t0:.1f}s")
        return done
