"""A throwaway Ceph cluster of real daemons on this host, OSDs on loop devices.

Everything lives in one run directory. The cluster's state (daemons, pids, OSDs, loop devices)
is kept in a JSON file there, so the process that tears the cluster down (the pytest controller)
need not be the one that brought it up (an xdist worker).
"""

import json
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ...ceph_client import CephClient
from ...clients.web import http_get
from ...commands import run
from ...dataplane.ceph_session import close_sessions
from ...errors import SetupError
from ...host import loopdev, processes
from ...host.ports import free_port, port_in_use
from ...host.sweep import sweep_run_dir
from ...payload import GiB
from ...records import read_record, write_record
from ...secrets import register, write_private
from ...waits import wait_for
from ..host_clients.tools import HostCephTools
from . import cephconf
from .containers import TOOLS, CephContainers

# Teardown order: gateways and filesystem servers first, then OSDs, mgr, and the mons last
# (an OSD whose mon is gone hangs on SIGTERM).
STOP_ORDER = ("client.rgw", "mds.", "osd.", "mgr.", "mon.", TOOLS)
# How long teardown waits for a daemon's clean exit before killing it (15 s for the others). The
# cluster is about to be discarded, and these two keep nothing of their own that a clean shutdown
# would save, while every daemon after them waits: RGW 20.2.4 spends about 19 s of it waiting for its
# dedup background thread; the MDS 6.6-6.9 s on 16.2.15, on a final beacon and the mons' answers
# (measured; the OSDs took 0.1-0.2 s, the mons 0.3 s). A kill past these bounds is expected, not
# reported.
TEARDOWN_BOUND = {"client.rgw": 3.0, "mds.": 1.0}
RGW_BUCKET_POOLS = ("default.rgw.buckets.index", "default.rgw.buckets.data", "default.rgw.buckets.non-ec")


@dataclass
class LocalSpec:
    # Four hosts: pools keep 3 copies on separate hosts, and the node-removal checks need 3 left.
    nodes: int = 4
    osds_per_node: int = 1
    osd_size_gib: float = 6.0
    rgw_port: int = 0
    start_timeout: float = 120.0
    ceph_image: str | None = None  # daemons and tools from this container image (containers.py); None: the host's




class LocalCluster:
    def __init__(self, run_dir, state=None):
        self.run_dir = Path(run_dir)
        self.state_path = self.run_dir / "cluster-state.json"
        if state is None:
            state = read_record(self.state_path)
        self.state = state or {"daemons": {}, "osds": {}, "phases": {}}
        self._state_lock = threading.RLock()  # daemons start from several threads at bring-up

    # -- paths and clients ------------------------------------------------------------------
    @property
    def conf(self):
        return self.run_dir / "ceph.conf"

    def keyring(self, name):
        return self.run_dir / "keyring" / f"{name}.keyring"

    @property
    def marker(self):
        # Every daemon's command line names the run's ceph.conf: that is how we recognise them.
        return str(self.conf)

    def client(self, timeout=60.0):
        return CephClient(self.tools(), timeout)

    def tools(self):
        if self.containers:
            return self.containers.tools(self.conf, self.keyring("client.admin"))
        return HostCephTools(self.conf, self.keyring("client.admin"))

    @property
    def containers(self):
        """How the daemons and tools run from the --ceph-image of the run, or None (the host's packages)."""
        image = self.state.get("ceph_image")
        return CephContainers(image, self.run_dir) if image else None

    @property
    def rgw_endpoint(self):
        return f"http://127.0.0.1:{self.state['rgw_port']}"

    def save(self):
        write_record(self.state_path, self.state)

    # -- bring-up -----------------------------------------------------------------------------
    def bring_up(self, spec: LocalSpec, progress=print):
        started = time.monotonic()
        for sub in ("keyring", "log", "run", "data", "crash", "images"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        rgw_port = spec.rgw_port or free_port()
        if spec.rgw_port and port_in_use(rgw_port):
            raise SetupError(f"port {rgw_port} on 127.0.0.1 is in use: free it or pick another with --rgw-port")
        self.state.update(
            fsid=str(uuid.uuid4()), mon_ports=self._free_ports(cephconf.MONS, taken={rgw_port}), rgw_port=rgw_port,
            spec=spec.__dict__, ceph_image=spec.ceph_image,
        )
        self.conf.write_text(
            cephconf.render(fsid=self.state["fsid"], mon_ports=self.state["mon_ports"], run_dir=self.run_dir)
        )
        self.save()
        if self.containers:
            self._phase("tools", self._start_tools, spec, progress)
        self._phase("mon", self._start_mon, spec, progress)
        self._phase("mgr", self._start_mgr, spec, progress)
        self._phase("osds", self._start_osds, spec, progress)
        # The MDS and RGW start while the pools are made: an MDS waits as a standby until the
        # filesystem exists, RGW makes its own zone pools (the bucket pools are made here first
        # thing, so none is made at a check's first PUT) and answers once they are active.
        self._phase("gateways", self._start_gateways, spec, progress)
        self._phase("pools", self._create_pools, spec, progress)
        self._phase("rgw", self._wait_rgw_up, spec, progress)
        self.state["phases"]["bring_up_total"] = round(time.monotonic() - started, 2)
        self.save()

    def _phase(self, name, step, spec, progress):
        t0 = time.monotonic()
        step(spec, progress)
        self.state["phases"][name] = round(time.monotonic() - t0, 2)
        self.save()

    def _tool(self, *argv, timeout=60.0):
        if self.containers:
            return self.containers.run_tool(argv, timeout=timeout).stdout
        return run(argv, timeout=timeout).stdout

    def _start_tools(self, spec, progress):
        c = self.containers
        pid = c.start_tools(self.marker, self.run_dir / "log" / f"{TOOLS}.stdout")
        self.state["daemons"][TOOLS] = {"argv": [], "pid": pid}
        self.state["ceph_version"] = c.version()
        progress(f"daemons and tools from {c.image}: {self.state['ceph_version']}")

    def _gen_key(self):
        return register(self._tool("ceph-authtool", "--gen-print-key").strip())

    def _write_keyring(self, name, key, caps=None):
        lines = [f"[{name}]", f"\tkey = {key}"]
        for service, cap in (caps or {}).items():
            lines.append(f'\tcaps {service} = "{cap}"')
        return write_private(self.keyring(name), "\n".join(lines) + "\n")

    def _start_daemon(self, name, argv):
        log = self.run_dir / "log" / f"{name}.stdout"
        with self._state_lock:
            pid = processes.start(self.containers.daemon_argv(name, argv) if self.containers else argv, log,
                                  self.marker)
            self.state["daemons"][name] = {"argv": [str(a) for a in argv], "pid": pid}
            self.save()
        return pid

    @staticmethod
    def _free_ports(names, taken=()):
        ports = {}
        # free_port may hand out a port twice: draw until every daemon has its own.
        while len(set(ports.values()) - set(taken)) < len(names):
            ports = {name: free_port() for name in names}
        return ports

    @property
    def mons(self):
        return [f"mon.{name}" for name in self.state.get("mon_ports", {})]

    def _start_mon(self, spec, progress):
        mon_keyring = self._write_keyring("mon.", self._gen_key(), {"mon": "allow *"})
        self._write_keyring(
            "client.admin",
            self._gen_key(),
            {"mon": "allow *", "osd": "allow *", "mds": "allow *", "mgr": "allow *"},
        )
        self._tool("ceph-authtool", mon_keyring, "--import-keyring", self.keyring("client.admin"))
        # Every mon is in the monmap from the start: no mon joins later, quorum is 2 of 3.
        ports = self.state["mon_ports"]
        monmap = self.run_dir / "monmap"
        addv = [arg for name, port in ports.items() for arg in ("--addv", name, f"[{cephconf.mon_addr(port)}]")]
        self._tool("monmaptool", "--create", "--enable-all-features", "--fsid", self.state["fsid"], *addv, monmap)
        with ThreadPoolExecutor(max_workers=len(ports)) as pool:  # independent data dirs
            for done in [pool.submit(self._tool, "ceph-mon", "-c", self.conf, "--mkfs", "-i", name, "--monmap",
                                     monmap, "--keyring", mon_keyring) for name in ports]:
                done.result()
        # Each mon reads its key from its data dir from here on, and binds its monmap address.
        for name in ports:
            self._start_daemon(f"mon.{name}", ["ceph-mon", "-c", self.conf, "-i", name, "-f"])
        wait_for(
            lambda: self._quorum(),
            what=f"{', '.join(self.mons)} to form a quorum",
            timeout=spec.start_timeout,
            interval=0.5,
        )
        progress(", ".join(f"{m} on 127.0.0.1:{p}" for m, p in zip(self.mons, ports.values(), strict=True))
                 + ": all in quorum")

    def _quorum(self):
        for mon in self.mons:
            self._check_alive(mon)
        q = self.client(timeout=10).ceph_json("quorum_status")
        names = sorted(q.get("quorum_names") or [])
        return names == sorted(self.state["mon_ports"]), f"quorum {names}"

    def _check_alive(self, name):
        info = self.state["daemons"][name]
        if not processes.is_alive(info["pid"], self.marker):
            raise SetupError(f"{name} exited during start-up: {self.log_tail(name)}")

    def log_tail(self, name, lines=5):
        text = ""
        for path in (self.run_dir / "log" / f"{name}.stdout", self.run_dir / "log" / f"{name}.log"):
            if path.exists():
                text += path.read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:]) or "(no log output)"

    def _auth(self, name, caps):
        args = []
        for service, cap in caps.items():
            args += [service, cap]
        write_private(self.keyring(name), self.client().ceph("auth", "get-or-create", name, *args))

    def _start_mgr(self, spec, progress):
        self._auth("mgr.x", {"mon": "allow profile mgr", "osd": "allow *", "mds": "allow *"})
        (self.run_dir / "data" / "mgr.x").mkdir(exist_ok=True)
        self._start_daemon("mgr.x", ["ceph-mgr", "-c", self.conf, "-i", "x", "-f"])
        progress("mgr.x started")

    def _start_osds(self, spec, progress):
        plan = [(f"node{n + 1}", k) for n in range(spec.nodes) for k in range(spec.osds_per_node)]
        self.add_osds([node for node, _ in plan], spec.osd_size_gib, progress, spec.start_timeout)

    def add_osds(self, nodes, size_gib, progress=print, timeout=120.0):
        """Create one OSD per entry of nodes (a CRUSH host name each); wait until all are up.

        The OSDs are made side by side: each one's steps (a cephx key, `osd new`, its loop
        device, mkfs) wait on the mons or on flushes more than on the CPU. Ids are given
        explicitly, in the order of nodes, so the same shape always numbers its OSDs alike."""
        client = self.client()
        taken = {int(i) for i in client.ceph_json("osd", "ls")}
        ids, candidate = [], 0
        while len(ids) < len(nodes):
            if candidate not in taken:
                ids.append(str(candidate))
            candidate += 1
        lock = self._state_lock  # the state file, and losetup --find (two at once may pick one device)

        def create(osd_id, node):
            osd_uuid = str(uuid.uuid4())
            key = self._gen_key()
            client.ceph("osd", "new", osd_uuid, osd_id, "-i", "-", input=json.dumps({"cephx_secret": key}))
            name = f"osd.{osd_id}"
            image = self.run_dir / "images" / f"{name}.img"
            loopdev.create_backing_file(image, int(size_gib * GiB))
            with lock:
                device = loopdev.attach(image)
                self.state["osds"][osd_id] = {"uuid": osd_uuid, "node": node, "device": device, "image": str(image)}
                self.save()
            self._write_keyring(name, key)
            (self.run_dir / "data" / name).mkdir(exist_ok=True)
            self._tool("ceph-osd", "-c", self.conf, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid,
                       "--bluestore_block_path", device, timeout=300)
            with lock:  # each OSD boots as soon as its own mkfs is done
                self._start_daemon(name, ["ceph-osd", "-c", self.conf, "-i", osd_id, "-f",
                                          "--crush-location", f"root=default host={node}"])

        with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
            for done in [pool.submit(create, osd_id, node) for osd_id, node in zip(ids, nodes, strict=True)]:
                done.result()
        self.wait_osds_up(ids, timeout)
        progress(", ".join(f"osd.{i} on {self.state['osds'][i]['node']}" for i in ids) + ": up and in")
        return ids

    def wait_osds_up(self, osd_ids, timeout=120.0):
        """Until every one of osd_ids is up and in: one `osd dump` per probe for all of them."""
        wanted = {str(i) for i in osd_ids}

        def probe():
            for osd_id in wanted:
                self._check_alive(f"osd.{osd_id}")
            dump = self.client(timeout=15).ceph_json("osd", "dump")
            state = {str(o["osd"]): o for o in dump["osds"] if str(o["osd"]) in wanted}
            waiting = sorted(i for i in wanted if not (i in state and state[i]["up"] and state[i]["in"]))
            return not waiting, "not up and in yet: " + ", ".join(
                f"osd.{i} ({'up' if state.get(i, {}).get('up') else 'down'}, "
                f"{'in' if state.get(i, {}).get('in') else 'out'})" for i in waiting)

        wait_for(probe, what=f"{len(wanted)} OSD(s) up and in", timeout=timeout, interval=0.5)

    def wait_osd_up(self, osd_id, timeout=120.0):
        self.wait_osds_up([osd_id], timeout)

    def _create_pools(self, spec, progress):
        client = self.client()

        def rbd():
            client.ceph("osd", "pool", "create", "rbd", "8", "8")
            client.tool("rbd", "pool", "init", "rbd")

        def cephfs():
            with ThreadPoolExecutor(max_workers=2) as both:
                for done in [both.submit(client.ceph, "osd", "pool", "create", pool, "8", "8")
                             for pool in ("cephfs.meta", "cephfs.data")]:
                    done.result()
            client.ceph("fs", "new", "cephfs", "cephfs.meta", "cephfs.data")
            # One MDS is what this cluster has: do not warn for a missing standby.
            client.ceph("fs", "set", "cephfs", "standby_count_wanted", "0")

        # RGW would create its bucket pools on the first PUT: mid-run, skewing the first
        # measurement and changing the cluster under the checks. Create them now.
        def rgw(pool):
            client.ceph("osd", "pool", "create", pool, "8", "8")
            client.ceph("osd", "pool", "application", "enable", pool, "rgw")

        # Each is a chain of CLI calls (a second or so each, mostly the CLI's start); the chains are
        # independent, and the mons batch what arrives together into one map change.
        with ThreadPoolExecutor(max_workers=5) as pool:
            for done in [pool.submit(rbd), pool.submit(cephfs), *(pool.submit(rgw, p) for p in RGW_BUCKET_POOLS)]:
                done.result()
        progress("pools created: rbd, cephfs (cephfs.meta, cephfs.data), RGW bucket pools")

    def _start_gateways(self, spec, progress):
        with ThreadPoolExecutor(max_workers=2) as pool:  # each a cephx user (a CLI call), then a daemon
            for done in [pool.submit(self._start_mds, spec, progress), pool.submit(self._start_rgw, spec, progress)]:
                done.result()

    def _wait_rgw_up(self, spec, progress):
        self.wait_rgw(spec.start_timeout)
        progress(f"RGW listening on {self.rgw_endpoint}")

    def _start_mds(self, spec, progress):
        self._auth("mds.a", {"mon": "allow profile mds", "osd": "allow rwx", "mds": "allow",
                             "mgr": "allow profile mds"})
        (self.run_dir / "data" / "mds.a").mkdir(exist_ok=True)
        self._start_daemon("mds.a", ["ceph-mds", "-c", self.conf, "-i", "a", "-f"])
        progress("mds.a started")

    def _start_rgw(self, spec, progress):
        self._auth("client.rgw.a", {"mon": "allow rw", "osd": "allow rwx", "mgr": "allow rw"})
        (self.run_dir / "data" / "client.rgw.a").mkdir(exist_ok=True)
        self._start_daemon(
            "client.rgw.a",
            ["radosgw", "-c", self.conf, "-n", "client.rgw.a", "-f",
             "--rgw_frontends", f"beast endpoint=127.0.0.1:{self.state['rgw_port']}"],
        )
        progress("client.rgw.a started")

    def wait_rgw(self, timeout=120.0):
        def probe():
            self._check_alive("client.rgw.a")
            status, _ = http_get(self.rgw_endpoint + "/", timeout=5)
            return True, f"HTTP {status}"

        wait_for(probe, what=f"RGW answering on {self.rgw_endpoint}", timeout=timeout, interval=0.5)

    # -- operating on daemons (for tests that break the cluster on purpose) -------------------
    def stop_daemon(self, name, timeout=15.0):
        def kill_container():
            # SIGKILL to podman's client would leave the daemon running: past the bound, kill the
            # container. One that will not end is the sweep's to remove, and it says so.
            try:
                self.containers.kill(name)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass

        return processes.stop(self.state["daemons"][name]["pid"], self.marker, timeout,
                              kill=kill_container if self.containers else None)

    def kill_daemon(self, name):
        if self.containers:  # SIGKILL to podman's client would leave the daemon running
            self.containers.kill(name)
            processes.stop(self.state["daemons"][name]["pid"], self.marker)
            return
        processes.kill(self.state["daemons"][name]["pid"], self.marker)

    def start_daemon(self, name):
        info = self.state["daemons"][name]
        if processes.is_alive(info["pid"], self.marker):
            return info["pid"]
        if name == TOOLS:
            return self._start_tools(None, lambda _msg: None)
        return self._start_daemon(name, info["argv"])

    # -- changing the cluster's shape ------------------------------------------------------------
    def osds_on(self, node):
        return sorted((osd_id for osd_id, osd in self.state["osds"].items() if osd["node"] == node), key=int)

    def kill_node(self, node):
        """SIGKILL every OSD of a node, as if the node lost power. Returns their ids."""
        ids = self.osds_on(node)
        if not ids:
            raise SetupError(f"no OSDs of this cluster on host {node} (hosts: {sorted(self.nodes())})")
        for osd_id in ids:
            self.kill_daemon(f"osd.{osd_id}")
        return [int(i) for i in ids]

    def nodes(self):
        return {osd["node"] for osd in self.state["osds"].values()}

    def remove_node(self, node, progress=print):
        """Remove a node for good: purge its OSDs from Ceph, drop its host bucket, free its disks."""
        client = self.client()
        for osd_id in self.osds_on(node):
            name = f"osd.{osd_id}"
            self.stop_daemon(name)  # a node being removed may still be up: stop before purging
            client.ceph("osd", "purge", osd_id, "--yes-i-really-mean-it")
            osd = self.state["osds"].pop(osd_id)
            del self.state["daemons"][name]
            self.save()
            loopdev.detach(osd["device"])
            Path(osd["image"]).unlink(missing_ok=True)
            progress(f"purged {name} and freed {osd['device']}")
        client.ceph("osd", "crush", "remove", node)
        progress(f"removed host bucket {node}")

    def daemon_rss_mib(self):
        """Resident memory of each running daemon, and their total, in MiB."""
        usage = {}
        for name, info in self.state["daemons"].items():
            if processes.is_alive(info["pid"], self.marker):
                # In a container: the daemon's own process, not podman's client.
                pid = self.containers.main_pid(name) if self.containers else info["pid"]
                usage[name] = round(processes.rss_bytes(pid) / 2**20, 1) if pid else 0.0
        usage["total"] = round(sum(usage.values()), 1)
        return usage

    def daemon_alive(self, name):
        return processes.is_alive(self.state["daemons"][name]["pid"], self.marker)

    # -- teardown -------------------------------------------------------------------------------
    def tear_down(self, progress=print, remove_dir=True):
        """Stop every daemon in dependency order, bounded; then sweep whatever of the run remains."""
        t0 = time.monotonic()
        close_sessions(self.conf)  # this process's librados sessions with the cluster, before its mons go
        daemons = self.state.get("daemons", {})
        for prefix in STOP_ORDER:
            names = [n for n in daemons if n.startswith(prefix)]
            bound = TEARDOWN_BOUND.get(prefix, 15.0)
            with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
                outcomes = list(pool.map(lambda n, b=bound: (n, self.stop_daemon(n, timeout=b)), names))
            expected = ("stopped", "gone", "killed") if prefix in TEARDOWN_BOUND else ("stopped", "gone")
            for name, outcome in outcomes:
                if outcome not in expected:
                    progress(f"{name} did not stop on SIGTERM within {bound:g}s: {outcome}")
        leftovers = sweep_run_dir(self.run_dir, remove=remove_dir)
        if leftovers:
            progress("teardown also removed: " + "; ".join(leftovers))
        return round(time.monotonic() - t0, 2)

    # -- description for reports ----------------------------------------------------------------
    def describe(self):
        return {
            "run_dir": str(self.run_dir),
            "ceph_conf": str(self.conf),
            "s3_endpoint": self.rgw_endpoint if "rgw_port" in self.state else None,
            "mons": {m: f"127.0.0.1:{p}" for m, p in zip(self.mons, self.state.get("mon_ports", {}).values(),
                                                       strict=True)},
            "osds": {f"osd.{k}": {"node": v["node"], "device": v["device"]} for k, v in self.state["osds"].items()},
            "phases": self.state.get("phases", {}),
            **({"ceph_image": self.state["ceph_image"], "ceph_version": self.state.get("ceph_version")}
               if self.state.get("ceph_image") else {}),
        }


def stop_run_dir_in_order(run_dir):
    """Stop the daemons of a run directory's cluster in dependency order, if it has one."""
    cluster = LocalCluster(Path(run_dir) / "cluster")
    if not cluster.state_path.exists():
        return []
    stopped = [n for n, d in cluster.state["daemons"].items() if processes.is_alive(d["pid"], cluster.marker)]
    cluster.tear_down(progress=lambda _msg: None, remove_dir=False)
    return [f"stopped {', '.join(stopped)}"] if stopped else []
