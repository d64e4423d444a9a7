"""Command-line S3 clients as users run them: rclone, s3cmd and the AWS CLI, host programs pointed
at the run's S3 endpoint as clients outside the cluster.

Each tool runs bounded (a timeout per command), its output captured; a failure names the command,
its exit status (or the bound it overran) and the tail of its output. Credentials never appear on
a command line (process lists are world-readable): rclone gets them from RCLONE_CONFIG_<REMOTE>_*
variables, s3cmd from a config file, the AWS CLI from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
with its settings in a config file of the run (AWS_CONFIG_FILE), never the user's ~/.aws. Every
file is in a 0700 directory of the run, 0600 itself. The environment is built from scratch: a
user's AWS_PROFILE or RCLONE_CONFIG_* never reach the tools, and HOME is the tool's directory.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..host import packages
from ..host.processes import OWNER_ENV
from ..secrets import scrub, write_private

# What the tools split uploads into: files above PART_SIZE go up in parts of PART_SIZE (S3's
# smallest part), so a 12 MiB file is a 3-part upload (ETag "<md5 of the parts' md5s>-3") with
# every tool.
PART_SIZE = 5 * 1024 * 1024
OUTPUT_TAIL_LINES = 12
OUTPUT_TAIL_CHARS = 1500
# A tool's command does many requests, each of them (its retries included) within one --op-timeout
# by the tool's own timeouts; the whole command is killed at this many budgets, a backstop for a
# tool that does not honour them.
COMMAND_BUDGETS = 5
# The lines in which a tool says why it gave up (rclone "ERROR : ..." and "Failed to sync: ...",
# s3cmd "ERROR: ..." and "WARNING: Retrying failed request: ...", the AWS CLI "upload failed: ...",
# "Read timeout on endpoint URL: ...").
SAYS = re.compile(r"error|failed|timed? ?out|could not|unable", re.I)
SAID_LINES = 3


class ToolMissing(Exception):
    """The tool is not installed here; the message says which package to install."""


class ToolFailed(AssertionError):
    """A tool exited non-zero or overran its bound (a check's verdict, not a harness error)."""


@dataclass
class ToolRun:
    argv: list
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self):
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()

    @property
    def tail(self):
        """The end of its output, secrets masked: what a failure message shows."""
        return _tail(self.output)

    @property
    def said(self):
        """The tool's own words on why it failed (its last error lines), secrets masked."""
        return said(self.output)


def said(text):
    lines = []
    for line in scrub(text).splitlines():
        line = line.strip()
        if SAYS.search(line) and line not in lines:
            lines.append(line)
    return " | ".join(lines[-SAID_LINES:])[-OUTPUT_TAIL_CHARS:]


def _tail(text):
    lines = scrub(text).strip().splitlines()[-OUTPUT_TAIL_LINES:]
    return "\n".join(lines)[-OUTPUT_TAIL_CHARS:]


def shown(argv):
    """A command as a failure or log line shows it: the program's name, its arguments (never a secret)."""
    return scrub(" ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(map(str, argv))))


def describe(argv, returncode, output, timeout=None):
    """One message for a failed command: the command (no secret is ever on it), how it ended, the
    tail of its output."""
    cmd = shown(argv)
    head = (f"`{cmd}` did not finish within {timeout:.0f}s (killed)" if timeout is not None
            else f"`{cmd}` exited with status {returncode}")
    words = said(output)
    if words:
        head += f"; {os.path.basename(str(argv[0]))} said: {words}"
    tail = _tail(output)
    return f"{head}; its output ends: {tail}" if tail else f"{head}, printing nothing"


def debian_program(name):
    """The path of a program from a Debian package of host/debian-packages.txt, or ToolMissing."""
    path = shutil.which(name)
    if path:
        return path
    pkg = next((p for p in packages.packages() if name in p.programs), None)
    what = f"the Debian package {pkg.name} (group {pkg.group}: `make deps` installs it)" if pkg else "it"
    raise ToolMissing(f"{name} is not installed on this host: install {what}, e.g. `apt-get install "
                      f"{pkg.name if pkg else name}`")


def venv_program(name, package):
    """A console script of the suite's own Python environment (next to sys.executable), never one
    found elsewhere on PATH."""
    path = Path(sys.executable).parent / name
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    raise ToolMissing(f"{name} is not in the suite's Python environment ({path.parent}): install the PyPI "
                      f"package {package} there (`{path.parent / 'pip'} install {package}`, or `make venv`)")


class S3Tool:
    """One tool with one user's credentials against one endpoint, in a private directory."""

    name = None

    def __init__(self, program, endpoint, creds, workdir, *, timeout=None, op_timeout=60.0, owner=None):
        self.program = program
        self.endpoint = endpoint.rstrip("/")
        self.creds = creds
        self.dir = Path(workdir)
        self.op_timeout = op_timeout  # each request's budget, the tool's retries included
        self.timeout = timeout or COMMAND_BUDGETS * op_timeout  # the whole command's
        self.owner = owner  # the run's mark, so a tool left running by a killed run is swept
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.dir / "tmp").mkdir(mode=0o700, exist_ok=True)
        self.runs = []  # every ToolRun, for the check's figures

    def path(self, name):
        """A file of the tool's private directory (for reports the tool writes, such as rclone's)."""
        return str(self.dir / name)

    def base_env(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "HOME": str(self.dir), "TMPDIR": str(self.dir / "tmp")}
        if self.owner:
            env[OWNER_ENV] = str(self.owner)
        return env

    def env(self):
        return self.base_env()

    def argv(self, args):
        return [self.program, *map(str, args)]

    def run(self, *args, timeout=None, check=True, ok=(0,)):
        """Run the tool with args; a ToolRun. check: raise ToolFailed unless its exit status is in ok."""
        __tracebackhide__ = True
        argv = self.argv(args)
        bound = timeout or self.timeout
        t0 = time.monotonic()
        try:
            proc = subprocess.run(argv, env=self.env(), cwd=self.dir, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=bound)
        except subprocess.TimeoutExpired as exc:
            out = "\n".join(_text(s) for s in (exc.stdout, exc.stderr) if s)
            raise ToolFailed(describe(argv, None, out, timeout=bound)) from None
        except OSError as exc:
            raise ToolFailed(f"could not start {argv[0]}: {exc}") from None
        result = ToolRun(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)
        self.runs.append(result)
        # Into the check's captured output: what ran, how it ended, how long it took.
        print(f"{self.name}: `{shown(argv)}` exited with {proc.returncode} after {result.seconds:.1f}s")
        if check and proc.returncode not in ok:
            raise ToolFailed(describe(argv, proc.returncode, result.output))
        return result

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _text(data):
    return data.decode(errors="replace") if isinstance(data, bytes) else data


class Rclone(S3Tool):
    """rclone with one S3 remote (REMOTE), configured only by environment variables."""

    name = "rclone"
    REMOTE = "cconf"

    def __init__(self, endpoint, creds, workdir, **kw):
        super().__init__(debian_program("rclone"), endpoint, creds, workdir, **kw)
        write_private(self.dir / "rclone.conf", "")  # never the user's ~/.config/rclone

    def env(self):
        r = f"RCLONE_CONFIG_{self.REMOTE.upper()}_"
        return {**self.base_env(), "RCLONE_CONFIG": str(self.dir / "rclone.conf"),
                "RCLONE_CACHE_DIR": str(self.dir / "cache"),
                f"{r}TYPE": "s3", f"{r}PROVIDER": "Ceph", f"{r}ENV_AUTH": "false",
                f"{r}ACCESS_KEY_ID": self.creds.access_key, f"{r}SECRET_ACCESS_KEY": self.creds.secret_key,
                f"{r}ENDPOINT": self.endpoint, f"{r}FORCE_PATH_STYLE": "true",
                f"{r}UPLOAD_CUTOFF": f"{PART_SIZE // 2**20}M", f"{r}CHUNK_SIZE": f"{PART_SIZE // 2**20}M",
                f"{r}UPLOAD_CONCURRENCY": "4"}

    def argv(self, args):
        # One attempt per command (a retried failure would hide what the gateway did) and one
        # low-level retry. Measured (rclone 1.60, a gateway that never answers): a stalled request
        # gives up after 4 idle timeouts (its SDK retries each low-level try once), so each timeout
        # is a quarter of the budget.
        idle = max(1.0, self.op_timeout / 4)
        return [self.program, *map(str, args), "--retries", "1", "--low-level-retries", "1",
                "--contimeout", f"{min(5.0, idle):.1f}s", "--timeout", f"{idle:.1f}s", "--transfers", "4",
                "--checkers", "8"]

    def remote(self, bucket, path=""):
        return f"{self.REMOTE}:{bucket}" + (f"/{path}" if path else "")


class S3cmd(S3Tool):
    """s3cmd with a config file of its own (0600) holding the keys."""

    name = "s3cmd"

    def __init__(self, endpoint, creds, workdir, **kw):
        super().__init__(debian_program("s3cmd"), endpoint, creds, workdir, **kw)
        url = urlsplit(self.endpoint)
        host = url.netloc
        write_private(self.dir / "s3cfg", "\n".join([
            "[default]",
            f"access_key = {creds.access_key}",
            f"secret_key = {creds.secret_key}",
            f"host_base = {host}",
            f"host_bucket = {host}",  # no %(bucket)s: path-style requests
            f"use_https = {url.scheme == 'https'}",
            "signature_v2 = False",
            "bucket_location = us-east-1",
            f"multipart_chunk_size_mb = {PART_SIZE // 2**20}",
            "progress_meter = False",
            # s3cmd 2.3 retries a failed request 5 times whatever its config says (S3._max_retries),
            # sleeping 3, 6, ... 15 s (45 s in all) between: the attempts share the budget, the
            # sleeps come on top.
            f"socket_timeout = {max(1, int(self.op_timeout / 6))}",
            "",
        ]))

    def argv(self, args):
        return [self.program, "-c", str(self.dir / "s3cfg"), *map(str, args)]


AWS_ATTEMPTS = 2  # attempts of each request, the first included


class AwsCli(S3Tool):
    """The AWS CLI (awscli of the suite's venv): keys by environment, settings in the run's file."""

    name = "aws"

    def __init__(self, endpoint, creds, workdir, **kw):
        super().__init__(venv_program("aws", "awscli"), endpoint, creds, workdir, **kw)
        write_private(self.dir / "aws-config", "\n".join([
            "[default]",
            "region = us-east-1",
            "output = json",
            "retry_mode = standard",
            f"max_attempts = {AWS_ATTEMPTS}",
            # RGW 16 predates the CRC checksums newer SDKs add by default.
            "request_checksum_calculation = when_required",
            "response_checksum_validation = when_required",
            "s3 =",
            "    addressing_style = path",
            "    signature_version = s3v4",
            f"    multipart_threshold = {PART_SIZE // 2**20}MiB",
            f"    multipart_chunksize = {PART_SIZE // 2**20}MiB",
            "    max_concurrent_requests = 4",
            "",
        ]))

    def env(self):
        return {**self.base_env(), "AWS_ACCESS_KEY_ID": self.creds.access_key,
                "AWS_SECRET_ACCESS_KEY": self.creds.secret_key, "AWS_CONFIG_FILE": str(self.dir / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.dir / "aws-credentials"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""}

    def argv(self, args):
        # AWS CLI v1 takes its timeouts only as these options (whole seconds; no secret in them):
        # each of its AWS_ATTEMPTS attempts gets its share of the budget.
        per_attempt = self.op_timeout / AWS_ATTEMPTS
        connect = max(1, int(min(5.0, per_attempt / 2)))
        read = max(1, int(per_attempt - connect))
        return [self.program, *map(str, args), "--endpoint-url", self.endpoint, "--cli-connect-timeout",
                str(connect), "--cli-read-timeout", str(read)]


class WorkDirectory:
    """A 0700 directory (made at once) under parent, removed with everything in it by remove()."""

    def __init__(self, parent, name):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]
        self.path = Path(parent) / safe
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.chmod(0o700)

    def sub(self, name):
        return WorkDirectory(self.path, name)

    def join(self, *parts):
        return str(self.path.joinpath(*parts))

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


TOOLS = {"rclone": Rclone, "s3cmd": S3cmd, "aws": AwsCli}


def make_tool(name, endpoint, creds, workdir, **kw):
    """One tool by name (rclone, s3cmd, aws); ToolMissing when it is not installed."""
    return TOOLS[name](endpoint, creds, workdir, **kw)


def s3_etag(path, part_size=PART_SIZE):
    """The ETag S3 gives a file uploaded as the tools here do: the MD5 of its bytes when it went up
    in one request, else the MD5 of its parts' MD5s and "-<parts>"."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if size <= part_size:
            return hashlib.md5(f.read()).hexdigest()
        parts = []
        while chunk := f.read(part_size):
            parts.append(hashlib.md5(chunk).digest())
    return f"{hashlib.md5(b''.join(parts)).hexdigest()}-{len(parts)}"
