"""Block storage on Rook: each database is a PVC of the run's RBD StorageClass under a MySQL
Deployment (one replica) in the run's namespace, reached from this host through a port-forward;
a raw device is a PVC in Block volume mode in a pod. Ceph's side (rbd status, info, du, snapshots,
clones) goes through the toolbox.

A crash force-deletes the MySQL pod (grace period 0: SIGKILL, no shutdown): only what MySQL had
flushed, and the storage had acknowledged, can be there when it starts again. A new client is the
Deployment moved off the node it ran on: another node's kernel maps the image (a new watcher)."""

import hashlib
import json
import os
import time

from ...clients import sql
from ...dataplane.block import BlockDatabase, BlockStorage, RawBlockDevice
from ...errors import CommandError, SetupError, Unsupported
from ...secrets import register
from ...waits import WaitTimeout, wait_for
from . import apps
from .labels import PART_LABEL, mark, selector
from .portforward import PortForward
from .readiness import claim_state, pod_problem

DATADIR = "/var/lib/mysql"
RAW_PATH = "/dev/cconf-raw"

# Direct I/O on the raw device in its pod (python3 of the Ceph image): argv op, path, offset,
# [length]; stdin: the data to write. Buffers page-aligned (mmap) as O_DIRECT wants.
RAW_IO = r"""
import mmap, os, sys
op, path, offset = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(path, (os.O_RDWR if op == "write" else os.O_RDONLY) | os.O_DIRECT)
try:
    if op == "write":
        data = sys.stdin.buffer.read()
        buf = mmap.mmap(-1, len(data)); buf.write(data)
        assert os.pwritev(fd, [buf], offset) == len(data)
        os.fsync(fd)
    else:
        length = int(sys.argv[4]); buf = mmap.mmap(-1, length)
        got = os.preadv(fd, [buf], offset)
        sys.stdout.buffer.write(buf[:got])
finally:
    os.close(fd)
"""


class RookBlockStorage(BlockStorage):
    def __init__(self, kube, settings, namer, ceph, timeout=300.0, target_name="kind", op_timeout=60.0):
        self.kube = kube
        self.op_timeout = op_timeout  # each SQL operation's budget
        self.s = settings
        self.namer = namer
        self.ceph = ceph  # CephClient through the toolbox
        self.timeout = timeout
        self.target_name = target_name
        self.made = []  # databases and raw devices, in the order made: removed newest first

    @property
    def ns(self):
        return self.s.apps_namespace

    def password(self):
        data = self.kube.read_secret(self.ns, f"{self.s.name}-credentials")
        if not data:
            raise SetupError(f"no {self.s.name}-credentials Secret in {self.ns}: the run's apps were not deployed")
        return register(data["mysql-root-password"])

    def wait(self, probe, what, timeout=None):
        try:
            return wait_for(probe, what=what, timeout=timeout or self.timeout, interval=2)
        except WaitTimeout as exc:
            raise SetupError(str(exc)) from None

    def _pvc(self, name, size_bytes, volume_mode="Filesystem", static_pv=None):
        doc = apps.pvc(self.s, name, self.s.storage_class("rbd"), 1, "ReadWriteOnce", volume_mode)
        doc["metadata"]["name"] = name
        doc["spec"]["resources"]["requests"]["storage"] = str(size_bytes)
        if static_pv:
            doc["spec"].update(storageClassName="", volumeName=static_pv)
        doc["metadata"]["labels"][PART_LABEL] = "block"
        return doc

    def bound_image(self, pvc_name):
        """(pool, image) of the RBD image behind a bound PVC (from its PV's CSI attributes)."""
        self.wait(lambda: claim_state(self.kube.get("v1", "PersistentVolumeClaim", pvc_name, self.ns)),
                  f"PVC {pvc_name} to be bound")
        pvc = self.kube.get("v1", "PersistentVolumeClaim", pvc_name, self.ns)
        pv = self.kube.get("v1", "PersistentVolume", pvc["spec"]["volumeName"])
        attrs = pv["spec"]["csi"].get("volumeAttributes") or {}
        image = attrs.get("imageName") or pv["spec"]["csi"]["volumeHandle"]
        return attrs.get("pool", self.s.pool), image

    def database(self, size_bytes):
        name = self.namer("db")
        self.kube.apply(self._pvc(name, size_bytes))
        db = RookDatabase(self, name)
        self.made.append(db)
        db.deploy()
        db.start()
        return db

    def database_of(self, image):
        """The database whose PVC's image is image ("pool/image"), made earlier by this run."""
        mine = f"{selector(self.s.run_id)},{PART_LABEL}=block"
        for pvc in self.kube.list("v1", "PersistentVolumeClaim", self.ns, mine):
            name = pvc["metadata"]["name"]
            if "/".join(self.bound_image(name)) == image:
                return RookDatabase(self, name)  # removed by the storage that made it, not this one
        raise SetupError(f"no PVC of the run holds RBD image {image}")

    def raw_device(self, size_bytes):
        name = self.namer("raw")
        self.kube.apply(self._pvc(name, size_bytes, volume_mode="Block"))
        device = RookRawDevice(self, name)
        self.made.append(device)
        device.attach()
        return device

    def remove_all(self):
        failures = []
        for item in reversed(self.made):
            try:
                item.remove()
            except Exception as exc:  # noqa: BLE001 - the others must still go; all reported together
                failures.append(f"{item.name}: {exc}")
        self.made.clear()
        return failures


class RookDatabase(BlockDatabase):
    """MySQL in the Deployment <name> on the PVC <name> (a clone: on a static PV of the clone image)."""

    def __init__(self, storage, name, clone_of=None):
        self.st = storage
        self.name = name
        self.clone_of = clone_of  # (pool, image) of the clone this database's static PV points at
        self.forward = None
        self._avoid = []  # nodes a move to a new client must not land on

    @property
    def kube(self):
        return self.st.kube

    @property
    def spec(self):
        return "/".join(self.clone_of or self.st.bound_image(self.name))

    def deployment(self):
        """The seeds' MySQL on this database's PVC, at zero replicas until start()."""
        suffix = self.name.removeprefix(f"{self.st.s.name}-")
        deployment, _service = apps.mysql(self.st.s, claim=suffix, app=suffix)  # reached by port-forward
        deployment["spec"]["replicas"] = 0
        deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 120  # InnoDB flushes
        return mark(deployment, self.st.s.run_id, "block")

    def deploy(self):
        self.kube.apply(self.deployment())

    def _pods(self):
        return self.kube.list("v1", "Pod", self.st.ns, f"app={self.name}")

    def _scale(self, replicas):
        self.kube.merge_patch("apps/v1", "Deployment", self.name, self.st.ns, {"spec": {"replicas": replicas}})

    def pod(self):
        ready = [p for p in self._pods() if pod_problem(p) is None and not p["metadata"].get("deletionTimestamp")]
        if not ready:
            raise SetupError(f"MySQL of {self.name} is not running")
        return ready[0]

    def start(self, timeout=120):
        self._scale(1)

        def ready():
            pods = [p for p in self._pods() if not p["metadata"].get("deletionTimestamp")]
            ok = [p for p in pods if pod_problem(p) is None]
            return bool(ok), "; ".join(f"{p['metadata']['name']}: {pod_problem(p)}" for p in pods) or "no pod yet"

        self.st.wait(ready, f"MySQL on {self.name} to accept connections", timeout=max(timeout, 300))
        self.forward = PortForward(self.kube, self.st.ns, self.pod()["metadata"]["name"], apps.MYSQL_PORT)

    def connect(self, op_timeout=None):
        if self.forward is None:
            raise SetupError(f"MySQL of {self.name} is not started")
        return sql.connect(budget=op_timeout or self.st.op_timeout, where=f"{self.name} (port-forward 127.0.0.1:"
                           f"{self.forward.port})", host="127.0.0.1", port=self.forward.port, user="root",
                           password=self.st.password())

    def _end_forward(self):
        if self.forward is not None:
            self.forward.close()
            self.forward = None

    def _wait_no_pod(self, what):
        self.st.wait(lambda: (not self._pods(), f"{len(self._pods())} pod(s) left"), what)

    def stop(self):
        self._end_forward()
        self._scale(0)  # SIGTERM: MySQL shuts down cleanly; then the node unmaps the image
        self._wait_no_pod(f"MySQL of {self.name} to stop")

    def crash(self):
        self._end_forward()
        self._scale(0)  # no replacement pod: start() brings it back, attached afresh
        for p in self._pods():
            self.kube.delete("v1", "Pod", p["metadata"]["name"], self.st.ns, grace_period_seconds=0)
        self._wait_no_pod(f"the crashed MySQL pod of {self.name} to be gone")

    def move_to_new_client(self):
        node = self.pod()["spec"]["nodeName"]
        self.stop()
        self._avoid.append(node)
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn", "values": self._avoid}]}]}}}
        self.kube.merge_patch("apps/v1", "Deployment", self.name, self.st.ns,
                              {"spec": {"template": {"spec": {"affinity": affinity}}}})
        self.start()

    def client_sessions(self):
        status = self.st.ceph.tool_json("rbd", "status", self.spec)
        return {w["client"] if "client" in w else w["address"] for w in status.get("watchers", [])}

    def log_tail(self, lines=10):
        pods = self._pods()
        if not pods:
            return "(no MySQL pod)"
        try:
            return self.kube.pod_log(self.st.ns, pods[0]["metadata"]["name"], tail_lines=lines, timeout=30)
        except Exception as exc:  # noqa: BLE001 - only for messages
            return f"(no log: {exc})"

    def ran_crash_recovery(self):
        text = self.log_tail(400).lower()
        return "crash recovery" in text or "was not shutdown normally" in text

    def _exec(self, argv, input=None, timeout=600):
        rc, out, err = self.kube.exec(self.st.ns, self.pod()["metadata"]["name"], argv, input=input, timeout=timeout)
        if rc != 0:
            raise CommandError(argv[:3], rc, (out + err).decode(errors="replace"))
        return out

    def filesystem_bytes(self):
        size, blocks = self._exec(["stat", "-f", "-c", "%S %b", DATADIR]).split()
        return int(size) * int(blocks)

    def grow(self, size_bytes):
        self.kube.merge_patch("v1", "PersistentVolumeClaim", self.name, self.st.ns,
                              {"spec": {"resources": {"requests": {"storage": str(size_bytes)}}}})

        def grown():
            have = self.filesystem_bytes()
            return have >= size_bytes * 0.9, f"filesystem {have} bytes"

        self.st.wait(grown, f"the filesystem on {self.name} to grow online to {size_bytes} bytes")

    def image_info(self):
        return self.st.ceph.tool_json("rbd", "info", self.spec)

    def rados_used_bytes(self):
        return self.st.ceph.tool_json("rbd", "du", self.spec)["images"][0]["used_size"]

    def snapshot(self, name):
        with self.connect() as conn, conn.cursor() as cur:
            # Tables quiesced, then the filesystem's dirty data written to the image (syncfs needs no
            # privilege, unlike fsfreeze), then the snapshot, taken while the lock holds.
            cur.execute("FLUSH TABLES WITH READ LOCK")
            try:
                self._exec(["sync", "-f", DATADIR], timeout=120)
                self.st.ceph.tool("rbd", "snap", "create", f"{self.spec}@{name}", timeout=120)
                self.st.ceph.tool("rbd", "snap", "protect", f"{self.spec}@{name}", timeout=60)
            finally:
                cur.execute("UNLOCK TABLES")

    def clone(self, snapshot):
        pool, image = self.spec.split("/", 1)
        name = self.st.namer("clone")
        clone_image = name
        self.st.ceph.tool("rbd", "clone", f"{pool}/{image}@{snapshot}", f"{pool}/{clone_image}", timeout=120)
        db = RookDatabase(self.st, name, clone_of=(pool, clone_image))
        self.st.made.append(db)  # after its origin: removed before it
        size = self.st.ceph.tool_json("rbd", "info", f"{pool}/{clone_image}")["size"]
        self.kube.apply(static_pv(self.st.s, name, pool, clone_image, size))
        self.kube.apply(self.st._pvc(name, size, static_pv=name))
        db.deploy()
        db.start()
        return db

    def run_fio(self, args, timeout):
        """fio in the MySQL pod, on the PVC's filesystem (DATADIR): the pod's image must hold fio."""
        work = f"{DATADIR}/cconf-fio"
        argv = ["sh", "-c", 'command -v fio >/dev/null || exit 127; mkdir -p "$0" && cd "$0" && fio "$@"; '
                'rc=$?; cd / && rm -rf "$0"; exit $rc', work, "--output-format=json", *args]
        rc, out, err = self.kube.exec(self.st.ns, self.pod()["metadata"]["name"], argv, timeout=timeout)
        if rc == 127:
            raise Unsupported(f"target {self.st.target_name}: the MySQL pod of {self.name} has no fio")
        if rc != 0:
            raise RuntimeError(f"fio in the MySQL pod of {self.name} failed (exit {rc}): "
                               f"{err.decode(errors='replace').strip()[-500:]}")
        return json.loads(out)

    def write_file(self, name, size, chunk):
        body = os.urandom(chunk - 8)
        base = hashlib.sha256(body)
        data, digests = bytearray(), []
        for i in range(size // chunk):
            stamp = i.to_bytes(8, "little")
            data += body + stamp
            h = base.copy()
            h.update(stamp)
            digests.append(h.hexdigest())
        t0 = time.perf_counter()  # the exec's time: the bytes cross the API server to the pod
        self._exec(["dd", f"of={DATADIR}/{name}", f"bs={chunk}", "conv=fsync", "status=none"], input=bytes(data))
        return time.perf_counter() - t0, digests

    def read_file(self, name, chunk):
        t0 = time.perf_counter()
        data = self._exec(["dd", f"if={DATADIR}/{name}", f"bs={chunk}", "iflag=direct", "status=none"])
        seconds = time.perf_counter() - t0
        return seconds, [hashlib.sha256(data[i:i + chunk]).hexdigest() for i in range(0, len(data), chunk)]

    def remove_file(self, name):
        self._exec(["rm", "-f", f"{DATADIR}/{name}"])

    def remove(self):
        self._end_forward()
        self.kube.delete("apps/v1", "Deployment", self.name, self.st.ns)
        self._wait_no_pod(f"MySQL of {self.name} to go")
        spec = self.spec
        # Its clones went first; its snapshots must go before ceph-csi can delete the image.
        for snap in self.st.ceph.tool_json("rbd", "snap", "ls", spec):
            if snap.get("protected") in (True, "true"):
                self.st.ceph.tool("rbd", "snap", "unprotect", f"{spec}@{snap['name']}", timeout=120)
            self.st.ceph.tool("rbd", "snap", "rm", f"{spec}@{snap['name']}", timeout=120)
        self.kube.delete("v1", "PersistentVolumeClaim", self.name, self.st.ns)
        self.st.wait(lambda: (self.kube.get("v1", "PersistentVolumeClaim", self.name, self.st.ns) is None,
                              "still there"), f"PVC {self.name} to go")
        if self.clone_of:  # a static PV is retained, and its image is the run's to remove
            self.kube.delete("v1", "PersistentVolume", self.name)
            self.st.ceph.tool("rbd", "rm", "/".join(self.clone_of), timeout=300)


def static_pv(s, name, pool, image, size):
    """A PV for an image the suite made (a clone), as ceph-csi's static volumes are declared."""
    doc = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
           "spec": {"capacity": {"storage": str(size)}, "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem", "storageClassName": "",
                    # The clone's XFS carries its origin's UUID: on the origin's node it mounts only with nouuid.
                    "mountOptions": ["nouuid"],
                    "csi": {"driver": f"{s.operator_namespace}.rbd.csi.ceph.com", "fsType": "xfs",
                            "volumeHandle": image,
                            "nodeStageSecretRef": {"name": "rook-csi-rbd-node", "namespace": s.namespace},
                            "volumeAttributes": {"clusterID": s.namespace, "pool": pool, "staticVolume": "true",
                                                 "imageFeatures": "layering"}}}}
    return mark(doc, s.run_id, "block")


class RookRawDevice(RawBlockDevice):
    """The PVC <name> in Block mode, as RAW_PATH in the pod <name> (the Ceph image: python3 for O_DIRECT)."""

    def __init__(self, storage, name):
        self.st = storage
        self.name = name

    @property
    def spec(self):
        return "/".join(self.st.bound_image(self.name))

    def _pod_doc(self):
        s = self.st.s
        container = {"name": "raw", "image": s.ceph_image, "command": ["sleep", "infinity"],
                     "volumeDevices": [{"name": "raw", "devicePath": RAW_PATH}]}
        doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": self.name, "namespace": self.st.ns},
               "spec": {"containers": [container], "terminationGracePeriodSeconds": 5,
                        "volumes": [{"name": "raw", "persistentVolumeClaim": {"claimName": self.name}}]}}
        return mark(doc, s.run_id, "block")

    def attach(self):
        self.st.kube.apply(self._pod_doc())

        def ready():
            p = self.st.kube.get("v1", "Pod", self.name, self.st.ns)
            why = pod_problem(p) if p else "no pod yet"
            return why is None, why or "ready"

        self.st.wait(ready, f"the pod of raw device {self.name} to be ready")

    def _io(self, argv, input=None):
        rc, out, err = self.st.kube.exec(self.st.ns, self.name, ["python3", "-c", RAW_IO, *argv], input=input,
                                         timeout=self.st.timeout)
        if rc != 0:
            raise OSError(f"direct I/O on {self.name} failed (exit {rc}): {err.decode(errors='replace')[-300:]}")
        return out

    def write(self, offset, data):
        self._io(["write", RAW_PATH, str(offset)], input=bytes(data))

    def read(self, offset, length):
        return self._io(["read", RAW_PATH, str(offset), str(length)])

    def detach(self):
        self.st.kube.delete("v1", "Pod", self.name, self.st.ns)
        self.st.wait(lambda: (self.st.kube.get("v1", "Pod", self.name, self.st.ns) is None, "still there"),
                     f"the pod of raw device {self.name} to go")

    def reattach(self):
        self.detach()
        self.attach()

    def remove(self):
        self.detach()
        self.st.kube.delete("v1", "PersistentVolumeClaim", self.name, self.st.ns)

