"""The `rook` binary of a Rook release, built here from the Go module proxy (no image can be pulled).

Rook 1.11 and 1.12 are one Go module (later releases need a nested pkg/apis module that the proxy
does not serve at their commits). The build is a scratch module made at build time from Rook's
own go.mod in the module cache: its `module` line renamed, `require github.com/rook/rook vX`
added, every other line kept (its requires pin what Rook's own build used; without its
`exclude`s, k8s.io/client-go v12.0.0+incompatible fails its checksum), and Rook's go.sum beside
it. Then `go build github.com/rook/rook/cmd/rook`, CGO off, the version stamped as Rook's
Makefile does. Nothing of Rook's is written into the repository: the scratch module, the module
and build caches and the binary live under /var/cache/ceph-conformance/rook (CCONF_ROOK_CACHE).
Under `nice -n 19` and a file lock, as host/gobuild.py builds.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from filelock import FileLock

from ...errors import SetupError
from . import release

CACHE_ENV = "CCONF_ROOK_CACHE"
DEFAULT_CACHE = Path("/var/cache/ceph-conformance/rook")
BUILD_TIMEOUT_S = 3600  # a cold build took 3-4 min on 2 busy cores; allow for a much busier machine
PACKAGE = f"{release.MODULE}/cmd/rook"
SCRATCH_MODULE = "ceph-conformance.local/rookbuild"
# Releases whose `rook` builds from the module proxy alone (1.13 on need github.com/rook/rook/pkg/apis
# at commits the proxy refuses or serves too old).
BUILDABLE = ((1, 11), (1, 12))


def cache_root():
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def tag(version):
    return "v" + version.lstrip("v")


def version_dir(version):
    return cache_root() / tag(version)


def binary_path(version):
    return version_dir(version) / "rook"


def is_built(version):
    return os.access(binary_path(version), os.X_OK)


def buildable(version):
    """SetupError unless `rook` of this release can be built here."""
    if release.parse_version(version)[:2] not in BUILDABLE:
        known = ", ".join(f"{a}.{b}" for a, b in BUILDABLE)
        raise SetupError(f"Rook {tag(version)}: its operator cannot be built from the Go module proxy (it needs "
                         f"github.com/rook/rook/pkg/apis, not served at its commit); Rook {known} can")


def scratch_go_mod(rook_go_mod, version):
    """The scratch module's go.mod from Rook's own: module renamed, Rook required, the rest kept."""
    text, count = re.subn(r"(?m)^module[ \t]+\S+[ \t]*$", f"module {SCRATCH_MODULE}", rook_go_mod, count=1)
    if count != 1:
        raise SetupError(f"Rook {tag(version)}'s go.mod has no module line: cannot make the build module")
    return f"{text.rstrip()}\n\nrequire {release.MODULE} {tag(version)}\n"


def go_env(go):
    root = cache_root()
    return {**os.environ, "GOMODCACHE": str(release.CACHE / "gomod"), "GOCACHE": str(root / "gocache"),
            "GOPATH": str(release.CACHE / "gopath"), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0",
            "GOFLAGS": "-mod=mod -modcacherw -buildvcs=false",
            "PATH": f"{Path(go).parent}:{os.environ.get('PATH', '')}"}


def ensure_rook_binary(version, progress=print):
    """The path of Rook `version`'s `rook` binary, built into the cache first if it is not there."""
    buildable(version)
    path = binary_path(version)
    if is_built(version):
        return path
    cache_root().mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_root() / "build.lock")):
        if is_built(version):  # another process built it while we waited
            return path
        from ...testbed.build import find_go

        go = find_go()
        module_dir = release.module_dir(version)
        progress(f"building rook {tag(version)} from the Go module proxy (nice -n 19; ~4 min cold) ...")
        started = time.monotonic()
        _go_build(go, version, module_dir, path)
        progress(f"built rook {tag(version)} in {time.monotonic() - started:.0f}s -> {path}")
    return path


def _go_build(go, version, rook_dir, path):
    work = path.parent / "module"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "go.mod").write_text(scratch_go_mod((rook_dir / "go.mod").read_text(), version))
    shutil.copyfile(rook_dir / "go.sum", work / "go.sum")  # what Rook's build verified; go adds Rook's own
    log = path.parent / "build.log"
    partial = path.parent / ".rook.partial"
    ldflags = f"-s -w -X {release.MODULE}/pkg/version.Version={tag(version)}"
    argv = ["nice", "-n", "19", go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(partial), PACKAGE]
    with open(log, "wb") as out:
        try:
            proc = subprocess.run(argv, cwd=work, env=go_env(go), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise SetupError(f"building rook {tag(version)} took over {BUILD_TIMEOUT_S}s; see {log}") from None
    if proc.returncode != 0 or not partial.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise SetupError(f"building rook {tag(version)} failed (go build exit {proc.returncode}): "
                         f"{' | '.join(tail)}; see {log}")
    os.replace(partial, path)  # a binary in the cache is always a whole one
