"""Builds Go programs (the registry, MinIO) from the Go module proxy into a cache outside the repository.

Some of the programs the checks drive publish source only. `go install <package>@<version>` fetches
the module through the Go module proxy and builds one binary into <cache>/<name>/<version>/, with
one module and build cache beside them shared by every program, so a second call is a cache hit
and nothing lands in the repository. Builds run under `nice -n 19` (the machine is shared with
cluster runs) and behind a file lock (xdist workers, a user and CI never build the same binary at
once). The test bed's Kubernetes has its own module (testbed/build.py).
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from ..errors import SetupError
from . import firstuse

CACHE_ENV = "CCONF_GO_CACHE"
DEFAULT_CACHE = Path("/var/cache/ceph-conformance/go")
GO_CANDIDATES = ("go", "/usr/local/go/bin/go")  # Debian's, then the upstream tarball's
MIN_GO = (1, 26)
BUILD_TIMEOUT_S = 3600  # a cold build of a large program on 2 busy cores; a warm one takes no time


@dataclass(frozen=True)
class GoProgram:
    """One binary: name (of the file), package (the main package's import path) at module version."""

    name: str
    package: str
    version: str
    expected: str = "a few minutes"  # how long a first build takes here, for the line that announces it
    ldflags: str = "-s -w"
    tags: tuple = field(default=())
    env: tuple = field(default=())  # extra (NAME, value) pairs for the build, e.g. CGO_ENABLED

    def describe(self):
        return f"{self.package}@{self.version}"


def find_go():
    """The go command, at least MIN_GO; a SetupError saying what to install otherwise."""
    for candidate in GO_CANDIDATES:
        path = shutil.which(candidate)
        if not path:
            continue
        out = subprocess.run([path, "env", "GOVERSION"], capture_output=True, text=True, timeout=60).stdout
        found = re.match(r"go(\d+)\.(\d+)", out.strip())
        if found and tuple(map(int, found.groups())) >= MIN_GO:
            return path
    raise SetupError(f"building programs from their Go modules needs Go >= {'.'.join(map(str, MIN_GO))} "
                     f"(looked for {', '.join(GO_CANDIDATES)}): install it")


def cache_root():
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def binary_path(program):
    return cache_root() / program.name / program.version / program.name


def is_built(program):
    return os.access(binary_path(program), os.X_OK)


def ensure_built(program, progress=print):
    """The binary's path, built first if the cache lacks it; a SetupError naming the build log if
    the build fails or runs past BUILD_TIMEOUT_S."""
    path = binary_path(program)
    if is_built(program):
        return path
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / "build.lock")):
        if is_built(program):  # another process built it while we waited
            return path
        go = find_go()
        with firstuse.step(f"building {program.name} from its Go module {program.describe()}", program.expected,
                           f"built {program.name} into {path.parent}", progress):
            _go_install(go, program, path)
    return path


def _go_env(go, program, gobin):
    root = cache_root()
    env = {**os.environ, "GOMODCACHE": str(root / "gomod"), "GOCACHE": str(root / "gocache"),
           "GOBIN": str(gobin), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false",
           "PATH": f"{Path(go).parent}:{os.environ.get('PATH', '')}"}
    env.update(dict(program.env))
    return env


def _go_install(go, program, path):
    # Into a scratch GOBIN first, then renamed: a binary in the cache is always a whole one.
    scratch = path.parent / ".partial"
    scratch.mkdir(parents=True, exist_ok=True)
    log = path.parent / "build.log"
    argv = ["nice", "-n", "19", go, "install", "-trimpath", "-ldflags", program.ldflags]
    if program.tags:
        argv += ["-tags", ",".join(program.tags)]
    argv.append(program.describe())
    with open(log, "wb") as out:
        try:
            proc = subprocess.run(argv, cwd=scratch, env=_go_env(go, program, scratch), stdout=out,
                                  stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise SetupError(f"building {program.name} took over {BUILD_TIMEOUT_S}s; see {log}") from None
    built = scratch / Path(program.package).name
    if proc.returncode != 0 or not built.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise SetupError(f"building {program.name} from {program.describe()} failed (go install exit "
                         f"{proc.returncode}): {' | '.join(tail)}; see {log}")
    os.replace(built, path)
    scratch.rmdir()
