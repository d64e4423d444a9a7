"""One long-lived librados client per identity, for `ceph` commands and RADOS object reads.

Each `ceph` command-line call starts a Python, connects and authenticates to the mons, fetches the
mons' command descriptions and only then sends its command: 0.2 to 1 s here, most of a
disruptive check's time, and a run's `rados get`s of its ledger cost about as much again in CPU.
A session does that start once: Ceph's own Python (the interpreter of the `ceph` script, with its
rados and ceph_argparse modules, so always the cluster's release) runs PROGRAM wherever the
target runs Ceph's tools (a subprocess here, an exec in the run's tools container), and takes
commands as JSON lines. A command is validated and sent as the `ceph` tool does it
(ceph_argparse's validate_command and json_command, mgr commands to the mgr), and its answer
comes back as the tool's would: exit status, stdout, and "Error EXXX: ..." on stderr.

What a session does not take (tell, commands for one daemon or PG, options the tool parses
itself, a command the mons do not describe) goes to the `ceph` tool, as before; so does
everything while a session cannot be started (the mons not up yet): it is tried again later.
"""

import atexit
import base64
import errno
import json
import os
import subprocess
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from .. import toolstats
from ..errors import CommandError
from ..host.processes import OWNER_ENV
from .tools import ToolResult

# Runs in Ceph's Python: argv conf, name, keyring ("" for none), connect timeout, OSD op timeout.
PROGRAM = r'''
import base64, errno, json, os, sys, threading
import rados
from ceph_argparse import find_cmd_target, json_command, parse_json_funcsigs, validate_command

conf, name, keyring, connect_timeout, osd_op_timeout = sys.argv[1:6]
lock, pools_lock = threading.Lock(), threading.Lock()


def answer(msg):
    with lock:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()


try:
    options = {"rados_osd_op_timeout": osd_op_timeout}
    if keyring:
        options["keyring"] = keyring
    cluster = rados.Rados(conffile=conf or None, name=name, conf=options)
    cluster.connect(timeout=int(connect_timeout))
    ret, out, outs = json_command(cluster, prefix="get_command_descriptions", timeout=int(connect_timeout))
    if ret:
        raise RuntimeError("get_command_descriptions: %d %s" % (ret, outs))
    sigdict = parse_json_funcsigs(out.decode("utf-8"), "cli")
except Exception as e:
    answer({"ready": False, "error": "%s: %s" % (type(e).__name__, e)})
    sys.exit(1)
answer({"ready": True})
ioctxs = {}


def ioctx(pool):
    with pools_lock:
        if pool not in ioctxs:
            ioctxs[pool] = cluster.open_ioctx(pool)
        return ioctxs[pool]


def ceph(req):
    args = req["args"]
    if find_cmd_target(args) != ("mon", ""):
        return {"unsupported": "not a command for the mons or the mgr"}
    valid = validate_command(sigdict, args)
    if not valid:
        return {"unsupported": "not a command this cluster describes"}
    if req.get("format"):
        valid["format"] = req["format"]
    try:
        ret, out, outs = json_command(cluster, argdict=valid, inbuf=base64.b64decode(req["inbuf"]),
                                      timeout=req["timeout"])
    except Exception as e:
        if "timed out" in str(e):
            return {"timed_out": True}
        raise
    return {"ret": ret, "out": base64.b64encode(out).decode(), "outs": outs}


def rados_error(e):
    return {"ret": -(getattr(e, "errno", None) or errno.EIO), "outs": str(e)}


def get(req):
    try:
        io = ioctx(req["pool"])
        size, _ = io.stat(req["name"])
        data = io.read(req["name"], length=size) if size else b""
    except rados.Error as e:
        return rados_error(e)
    return {"ret": 0, "out": base64.b64encode(data).decode(), "outs": ""}


def put(req):
    try:
        ioctx(req["pool"]).write_full(req["name"], base64.b64decode(req["data"]))
    except rados.Error as e:
        return rados_error(e)
    return {"ret": 0, "out": "", "outs": ""}


OPS = {"ceph": ceph, "get": get, "put": put}


def handle(req):
    try:
        result = OPS[req["op"]](req)
    except Exception as e:
        result = {"error": "%s: %s" % (type(e).__name__, e)}
    result["id"] = req["id"]
    answer(result)


for line in sys.stdin:
    threading.Thread(target=handle, args=(json.loads(line),), daemon=True).start()
# The end of input: the caller closed it or died. A shutdown that hangs on mons gone is cut short.
threading.Timer(5, lambda: os._exit(0)).start()
cluster.shutdown()
os._exit(0)
'''

# Runs PROGRAM with the interpreter of the `ceph` script, wherever that is.
LAUNCH = 'py=$(sed -n "1s/^#! *//p" "$(command -v ceph)") && exec $py -c "$@"'
CONNECT_TIMEOUT = 10
OSD_OP_TIMEOUT = 15  # as the ledger's `rados get`s had: a read of a PG with no live copy fails
RETRY_AFTER = 5.0  # a session that could not start is not tried again before this


class SessionUnavailable(Exception):
    """This request goes to the command-line tool instead (reason in the message)."""


class CephSession:
    """PROGRAM running under the tools' identity; requests from any thread, answered by id."""

    def __init__(self, argv, what, owner=None):
        # Marked as the run's own processes are (host/processes.py), so a sweep of the run finds it.
        env = {**os.environ, OWNER_ENV: str(owner)} if owner else None
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        self._ids = iter(range(1, 1 << 62))
        self._pending: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._ready: Future = Future()
        self.dead = None  # why it ended
        threading.Thread(target=self._read, daemon=True, name="ceph-session").start()
        try:
            hello = self._ready.result(CONNECT_TIMEOUT + 20)
        except FutureTimeout:
            self.close()
            raise SessionUnavailable(f"{what}: no answer within {CONNECT_TIMEOUT + 20}s") from None
        if not hello.get("ready"):
            self.close()
            raise SessionUnavailable(f"{what}: {hello.get('error', 'it ended')}")

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # not PROGRAM's: librados writes only to stderr, but be sure
            if "ready" in msg:
                self._ready.set_result(msg)
                continue
            with self._lock:
                future = self._pending.pop(msg["id"], None)
            if future is not None:
                future.set_result(msg)
        self.dead = f"its process ended (exit status {self.proc.wait()})"
        if not self._ready.done():
            self._ready.set_result({"ready": False, "error": self.dead})
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_result({"ended": self.dead})

    def request(self, msg, timeout):
        """PROGRAM's answer to msg; None if none came within timeout."""
        if self.dead:
            raise SessionUnavailable(self.dead)
        future: Future = Future()
        with self._lock:
            msg = {**msg, "id": next(self._ids)}
            self._pending[msg["id"]] = future
            try:
                self.proc.stdin.write((json.dumps(msg) + "\n").encode())
                self.proc.stdin.flush()
            except OSError as exc:
                self._pending.pop(msg["id"], None)
                raise SessionUnavailable(f"cannot write to it: {exc}") from None
        try:
            answer = future.result(timeout)
        except FutureTimeout:
            with self._lock:
                self._pending.pop(msg["id"], None)
            return None
        if "ended" in answer:
            raise SessionUnavailable(answer["ended"])
        if "error" in answer:  # PROGRAM failed on it: the tool may do better
            raise SessionUnavailable(answer["error"])
        return answer

    def close(self):
        try:
            self.proc.stdin.close()  # PROGRAM ends at the end of its input
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


_SESSIONS: dict = {}  # key -> CephSession, or the monotonic time before which none is tried
_LOCK = threading.Lock()


def session_for(tools):
    """The session for these tools' identity, started if need be; None when there is none."""
    if os.environ.get("CCONF_TOOLS_ONLY"):  # every command through the tools, for comparison
        return None
    argv = tools.session_argv(PROGRAM, LAUNCH, CONNECT_TIMEOUT, OSD_OP_TIMEOUT)
    if argv is None:
        return None
    key = tuple(argv)
    with _LOCK:
        known = _SESSIONS.get(key)
        if isinstance(known, CephSession) and not known.dead:
            return known
        if isinstance(known, float) and time.monotonic() < known:
            return None
        try:
            session = CephSession(argv, "ceph session", owner=getattr(tools, "conf", None))
        except (SessionUnavailable, OSError):
            _SESSIONS[key] = time.monotonic() + RETRY_AFTER
            return None
        _SESSIONS[key] = session
        return session


def close_sessions(marker=None):
    """End every session (whose argv names marker, e.g. a cluster's ceph.conf, if given)."""
    with _LOCK:
        keys = [k for k in _SESSIONS if marker is None or any(str(marker) in part for part in k)]
        ended = [_SESSIONS.pop(k) for k in keys]
    for session in ended:
        if isinstance(session, CephSession):
            session.close()


atexit.register(close_sessions)


def split_ceph_args(args, input):
    """(command words, format, inbuf) for a session, or None when the tool must parse args itself."""
    words, fmt, inbuf = [], None, b""
    args = [str(a) for a in args]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--format" and i + 1 < len(args):
            fmt, i = args[i + 1], i + 2
        elif a == "--connect-timeout" and i + 1 < len(args):
            i += 2  # a session is connected already; the command's own bound stands
        elif a == "-i" and i + 1 < len(args) and args[i + 1] == "-":
            inbuf, i = input or b"", i + 2
        elif a.startswith("-") and not a.startswith("--yes-i-really") and a != "--force":
            return None
        else:
            words.append(a)
            i += 1
    return words, fmt, inbuf


def run_ceph(tools, args, input, timeout):
    """`ceph args` through the tools' session, as a ToolResult; None to run the tool instead."""
    parsed = split_ceph_args(args, input)
    if parsed is None:
        return None
    session = session_for(tools)
    if session is None:
        return None
    words, fmt, inbuf = parsed
    argv = ["ceph", *words, *(["--format", fmt] if fmt else [])]
    t0 = time.monotonic()
    try:
        answer = session.request({"op": "ceph", "args": words, "format": fmt,
                                  "inbuf": base64.b64encode(inbuf).decode(), "timeout": max(1, int(timeout))},
                                 timeout + 5)
    except SessionUnavailable:
        return None
    if answer is not None and "unsupported" in answer:
        return None
    toolstats.record("ceph", time.monotonic() - t0)
    if answer is None or answer.get("timed_out"):
        raise CommandError(argv, None, "", timeout=timeout)
    return _result(argv, answer)


def rados_object(tools, op, pool, name, data=None, timeout=60.0):
    """get (data None) or put one RADOS object through the session, as a ToolResult shaped like
    `rados -p pool get|put name -`'s; None to run the tool instead."""
    session = session_for(tools)
    if session is None:
        return None
    argv = ["rados", "-p", pool, op, name, "-"]
    msg = {"op": op, "pool": pool, "name": name}
    if data is not None:
        msg["data"] = base64.b64encode(data).decode()
    t0 = time.monotonic()
    try:
        answer = session.request(msg, timeout)
    except SessionUnavailable:
        return None
    toolstats.record("rados", time.monotonic() - t0)
    if answer is None:
        raise CommandError(argv, None, "", timeout=timeout)
    if answer["ret"] < 0:  # as the tool says it: "error getting pool/name: (2) No such file or directory"
        code = -answer["ret"]
        said = f"error {op}ting {pool}/{name}: ({code}) {os.strerror(code)}\n"
        return ToolResult(argv, code, b"", said.encode())
    return _result(argv, answer)


def _result(argv, answer):
    ret, outs = answer["ret"], answer.get("outs", "")
    stdout = base64.b64decode(answer.get("out") or "")
    if ret < 0:
        code = -ret
        stderr = f"Error {errno.errorcode.get(code, 'Unknown')}: {outs}\n"
        return ToolResult(argv, code, stdout, stderr.encode())
    return ToolResult(argv, ret, stdout, (outs + "\n").encode() if outs else b"")
