"""The shared filesystem on Rook: pods mounting one ReadWriteMany CephFS PVC (apps.fs_client), each
a client of the run's directory in it; operations and programs run in the pod by exec.

A pod's filesystem operations are one small Python program (OPS, below) run in the pod with
python3 (the client pods run the Ceph image, which has it); its errors come back as OSError with
the errno the pod's filesystem answered."""

import json
import threading
from itertools import count
from posixpath import join, normpath

from ...clients.web import http_get
from ...dataplane.sharedfs import FileStat, FilesystemClient, Program, ProgramResult, SharedFilesystem, WebApp
from ...errors import CommandError, SetupError
from ...waits import WaitTimeout, wait_for
from .apps import SHARED_MOUNT, web_service
from .labels import PART_LABEL, selector
from .readiness import pod_problem

OP_TIMEOUT = 120.0
WEB_PORT = 18080
FAILED = 3  # OPS's exit status when the filesystem answered with an error

# argv: op, path, [arg]; stdin: data to write. stdout: the result (bytes, or JSON).
OPS = r"""
import errno, json, mmap, os, shutil, stat, sys
op, path = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
out = sys.stdout.buffer
try:
    if op == "write":
        data = sys.stdin.buffer.read()
        with open(path, "wb") as f:
            f.write(data); f.flush(); os.fsync(f.fileno())
    elif op == "read":
        with open(path, "rb") as f:
            out.write(f.read())
    elif op == "read_direct":  # O_DIRECT: CephFS reads from the cluster, not this node's page cache
        size = os.stat(path).st_size
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        try:
            buf = mmap.mmap(-1, max(4096, (size + 4095) // 4096 * 4096))
            got = os.readv(fd, [buf])
            out.write(buf[:min(got, size)])
        finally:
            os.close(fd)
    elif op == "mkdir":
        (os.makedirs if arg == "parents" else os.mkdir)(path)
    elif op == "rename":
        os.rename(path, arg)
    elif op == "chmod":
        os.chmod(path, int(arg))
    elif op == "link":
        os.link(path, arg)
    elif op == "symlink":
        os.symlink(arg, path)
    elif op == "readlink":
        out.write(os.readlink(path).encode())
    elif op == "unlink":
        os.unlink(path)
    elif op == "rmdir":
        os.rmdir(path)
    elif op == "remove_tree":
        shutil.rmtree(path)
    elif op == "stat":
        st = os.stat(path)
        out.write(json.dumps([st.st_mode, st.st_nlink, st.st_ino, st.st_size]).encode())
    elif op == "exists":
        out.write(json.dumps([os.path.exists(path), os.path.isdir(path)]).encode())
    elif op == "setxattr":
        os.setxattr(path, arg, sys.stdin.buffer.read())
    elif op == "getxattr":
        out.write(os.getxattr(path, arg))
    elif op == "kill":  # a program started by start(): its pid file holds its pid
        with open(path) as f:
            os.kill(int(f.read()), 9)
    else:
        raise SystemExit("unknown op " + op)
except OSError as e:
    sys.stderr.write(json.dumps([e.errno, e.strerror, e.filename]))
    sys.exit(3)
"""

# Runs argv in the client's directory and writes the program's pid for kill(); the shell stays to
# remove that file when the program ends, killed or not. A background job's stdin is /dev/null in sh,
# so the caller's input goes to it through fd 3.
RUNNER = ('cd "$1" || exit 126; pid_file=$2; shift 2; exec 3<&0; "$@" <&3 3<&- 2>&1 & '
          'echo $! > "$pid_file"; wait $!; rc=$?; rm -f "$pid_file"; exit $rc')


class RookSharedFilesystem(SharedFilesystem):
    def __init__(self, kube, settings, namer, directory=None, timeout=OP_TIMEOUT, target_name="kubeconfig"):
        self.kube = kube
        self.target_name = target_name
        self.s = settings
        self.fs_name = settings.filesystem
        self.directory = directory or namer("fs")  # the run's directory on the shared PVC
        self.timeout = timeout
        self._pods = None
        self._clients = count()
        self._made = False
        self._released = False
        self._apps = count(1)
        self.apps = []

    def pods(self):
        if self._pods is None:
            pods = self.kube.list("v1", "Pod", self.s.apps_namespace,
                                  f"{selector(self.s.run_id)},{PART_LABEL}=fs-client")
            ready = sorted(p["metadata"]["name"] for p in pods if pod_problem(p) is None)
            if not ready:
                raise SetupError(f"no ready filesystem client pod in {self.s.apps_namespace}")
            self._pods = ready
        return self._pods

    def new_client(self, timeout=60):
        """The next client pod, round robin: with as many pods as clients asked for, each client is
        its own pod (spread over nodes where the scheduler could)."""
        pods = self.pods()
        index = next(self._clients)
        root = PodFilesystemClient(self.kube, self.s.apps_namespace, pods[index % len(pods)], SHARED_MOUNT,
                                   self.timeout)
        if not self._made:
            if not root.exists(self.directory):
                root.mkdir(self.directory)
            self._made = True
        return root.subdir(self.directory)

    def release_directory(self):
        self._released = True
        return self.directory

    def web_app(self, client, path):
        """Python's http.server in the client's pod, serving path as that pod sees it, behind a NodePort."""
        index = next(self._apps)
        pod_index = int(client.pod.rsplit("-", 1)[1])  # the pods are <run>-fs-client-<n>
        app = PodWebApp(self.kube, self.s, client, client._path(path), index, pod_index, WEB_PORT + index)
        self.apps.append(app)
        return app

    def ghost(self, client, database, path):
        from .ghost import RookGhostSites

        if getattr(self, "_ghost_sites", None) is None:
            self._ghost_sites = RookGhostSites(self.kube, self.s)
        return self._ghost_sites.app(client, database, path)

    def minio(self, client, path):
        """MinIO's official image in its own Deployment on the client pod's node (rook/minio.py)."""
        from .minio import RookMinio

        server = RookMinio(self.kube, self.s, client, path, next(self._apps))
        self.apps.append(server)
        return server

    def close(self):
        for app in self.apps:
            app.stop()
        ghost_problems = self._ghost_sites.close() if getattr(self, "_ghost_sites", None) else []
        return ghost_problems + self._remove_directory()

    def _remove_directory(self):
        if self._released or not self._made:
            return []
        try:
            root = PodFilesystemClient(self.kube, self.s.apps_namespace, self.pods()[0], SHARED_MOUNT, self.timeout)
            root.remove_tree(self.directory)
        except (OSError, CommandError, SetupError) as exc:
            return [f"could not remove {self.directory} from the shared PVC: {exc}"]
        return []


class PodFilesystemClient(FilesystemClient):
    def __init__(self, kube, namespace, pod, base, timeout):
        self.kube = kube
        self.namespace = namespace
        self.pod = pod
        self.name = f"pod {pod}"
        self.base = base
        self.timeout = timeout
        self._programs = count(1)

    def _path(self, path):
        joined = normpath(join(self.base, path))
        if path.startswith("/") or not (joined == self.base or joined.startswith(self.base + "/")):
            raise ValueError(f"{path!r}: paths are relative to the shared directory, without '..'")
        return joined

    def _op(self, op, path, arg=None, data=None):
        argv = ["python3", "-c", OPS, op, self._path(path)] + ([str(arg)] if arg is not None else [])
        rc, out, err = self.kube.exec(self.namespace, self.pod, argv, input=data, timeout=self.timeout)
        if rc == FAILED:
            try:
                code, message, filename = json.loads(err)
            except ValueError:
                raise CommandError(argv[:2] + [op, path], rc, err.decode(errors="replace")) from None
            raise OSError(code, message, filename)
        if rc != 0:
            raise CommandError(["python3", op, path], rc, (out + err).decode(errors="replace"))
        return out

    def subdir(self, path):
        return PodFilesystemClient(self.kube, self.namespace, self.pod, self._path(path), self.timeout)

    def write(self, path, data):
        self._op("write", path, data=bytes(data))

    def read(self, path, uncached=False):
        return self._op("read_direct" if uncached else "read", path)

    def mkdir(self, path, parents=False):
        self._op("mkdir", path, "parents" if parents else "one")

    def rename(self, src, dst):
        self._op("rename", src, self._path(dst))

    def chmod(self, path, mode):
        self._op("chmod", path, mode)

    def link(self, src, dst):
        self._op("link", src, self._path(dst))

    def symlink(self, target, path):
        self._op("symlink", path, target)

    def readlink(self, path):
        return self._op("readlink", path).decode()

    def unlink(self, path):
        self._op("unlink", path)

    def rmdir(self, path):
        self._op("rmdir", path)

    def remove_tree(self, path):
        self._op("remove_tree", path)

    def stat(self, path):
        mode, nlink, ino, size = json.loads(self._op("stat", path))
        return FileStat(mode=mode, nlink=nlink, ino=ino, size=size)

    def exists(self, path):
        return json.loads(self._op("exists", path))[0]

    def is_dir(self, path):
        return json.loads(self._op("exists", path))[1]

    def setxattr(self, path, name, value):
        self._op("setxattr", path, name, data=bytes(value))

    def getxattr(self, path, name):
        return self._op("getxattr", path, name)

    def run(self, argv, *, input=None, timeout):
        program = self.start(argv, input=input)
        return program.wait(timeout)

    def start(self, argv, input=None):
        pid_file = f"/tmp/cconf-program-{next(self._programs)}-{id(self)}.pid"
        return PodProgram(self, [str(a) for a in argv], pid_file, input)


class PodProgram(Program):
    """A program exec'd in the pod from a thread of this process; its stdout and stderr together."""

    def __init__(self, client, argv, pid_file, input=None):
        self.client = client
        self.argv = argv
        self.pid_file = pid_file
        self.result = None
        self.error = None
        data = input.encode() if isinstance(input, str) else input
        shell = ["sh", "-c", RUNNER, "sh", client.base, pid_file, *argv]
        # The exec's own bound: well past any wait a check gives, so wait() decides, and kill() ends it.
        self.thread = threading.Thread(target=self._exec, args=(shell, data), daemon=True)
        self.thread.start()

    def _exec(self, shell, data):
        try:
            rc, out, err = self.client.kube.exec(self.client.namespace, self.client.pod, shell, input=data,
                                                 timeout=3600)
            self.result = ProgramResult(rc, (out + err).decode(errors="replace"))
        except CommandError as exc:
            self.error = exc

    def wait(self, timeout):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError(f"{self.argv[0]} did not end within {timeout:.0f}s in pod {self.client.pod}")
        if self.error is not None:
            raise self.error
        return self.result

    def kill(self):
        try:  # exit status 3 (no such process, no pid file): it had ended on its own
            self.client.kube.exec(self.client.namespace, self.client.pod, ["python3", "-c", OPS, "kill",
                                                                           self.pid_file], timeout=30)
        except CommandError:
            pass  # the pod is gone: so is the program
        self.thread.join(30)
        if self.thread.is_alive() and self.result is None:
            self.result = ProgramResult(-9, "(no output: the program did not end within 30s of SIGKILL)")

    def running(self):
        return self.thread.is_alive()


class PodWebApp(WebApp):
    """A web server in a client pod; url: the NodePort on a node's address, as S3 is reached."""

    def __init__(self, kube, settings, client, root, index, pod_index, port):
        self.kube = kube
        self.client = client
        self.root = root
        self.port = port
        self.service = web_service(settings, index, pod_index, port)
        self.node_address = settings.node_address
        self.program = None
        self.url = None

    def start(self, timeout=30):
        from .objectstore import endpoint_of

        self.program = PodProgram(self.client, ["python3", "-m", "http.server", str(self.port), "--bind", "0.0.0.0",
                                                "--directory", self.root], f"/tmp/cconf-web-{self.port}.pid")
        self.kube.apply(self.service)
        meta = self.service["metadata"]
        svc = self.kube.get("v1", "Service", meta["name"], meta["namespace"])
        self.url = endpoint_of(self.kube.list("v1", "Node"), svc, self.node_address)

        def answers():
            if not self.program.running():
                return False, f"the web server ended: {self.program.wait(1).output[-300:]}"
            status, _ = http_get(self.url + "/", timeout=5)
            return True, f"HTTP {status}"

        try:
            wait_for(answers, what=f"the web server in pod {self.client.pod} to answer at {self.url}", timeout=timeout,
                     interval=1)
        except WaitTimeout as exc:
            raise SetupError(str(exc)) from None

    def stop(self):
        if self.program is not None:
            self.program.kill()
            self.program = None
        meta = self.service["metadata"]
        self.kube.delete("v1", "Service", meta["name"], meta["namespace"])
