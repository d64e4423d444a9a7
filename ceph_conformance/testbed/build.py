"""Builds the test bed's Kubernetes and etcd from the Go module proxy into a cache outside the repository.

No Kubernetes server binary is packaged anywhere this machine reaches, but their sources are Go
modules. The Go module in kube/ (go.mod, go.sum) requires k8s.io/kubernetes and etcd's server at
fixed versions and lists the commands as tools; `go build` turns them into binaries under
<cache>/<kubernetes version>/bin, with the module and build caches beside them, so a second build
is a cache hit and nothing lands in the repository. Builds run under `nice -n 19`: the machine
is shared with cluster tests. A file lock keeps two processes (xdist workers, a user and CI) from
building the same binary at once.
"""

import os
import re
import subprocess
import time
from pathlib import Path

from filelock import FileLock

from ..errors import SetupError
from ..host import gobuild

MODULE_DIR = Path(__file__).with_name("kube")
CACHE_ENV = "CCONF_K8S_CACHE"
DEFAULT_CACHE = Path("/var/cache/ceph-conformance/k8s")
BUILD_TIMEOUT_S = 3600  # a cold build of all six on 2 busy cores; a warm one takes seconds

# The binary name -> its package in kube/go.mod's tool list.
PACKAGES = {
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
    "kubelet": "k8s.io/kubernetes/cmd/kubelet",
    "kube-proxy": "k8s.io/kubernetes/cmd/kube-proxy",
}
API_BINARIES = ("etcd", "kube-apiserver")
NODE_BINARIES = ("kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")


def kubernetes_version():
    """The k8s.io/kubernetes version kube/go.mod requires, e.g. v1.36.3."""
    found = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", (MODULE_DIR / "go.mod").read_text(), re.M)
    if not found:
        raise SetupError(f"{MODULE_DIR / 'go.mod'} requires no k8s.io/kubernetes version")
    return found.group(1)


def cache_root():
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def bin_dir(version=None):
    return cache_root() / (version or kubernetes_version()) / "bin"


def binary(name):
    return bin_dir() / name


def missing(names):
    return [n for n in names if not os.access(binary(n), os.X_OK)]


def find_go():
    """The go command (host/gobuild.py finds it); a SetupError saying what to install otherwise."""
    try:
        return gobuild.find_go()
    except SetupError as exc:
        raise SetupError(f"the test bed's Kubernetes: {exc}, or put the binaries in {bin_dir()}") from None


def go_env(go):
    root = cache_root()
    return {**os.environ, "GOMODCACHE": str(root / "gomod"), "GOCACHE": str(root / "gocache"),
            "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly",
            "PATH": f"{Path(go).parent}:{os.environ.get('PATH', '')}"}


def ldflags(version):
    # What `kubectl version` and clients that gate on the server's version (Rook does) read;
    # without it the server says v0.0.0-master.
    major, minor = re.match(r"v(\d+)\.(\d+)", version).groups()
    v = "k8s.io/component-base/version"
    return (f"-s -w -X {v}.gitVersion={version} -X {v}.gitMajor={major} -X {v}.gitMinor={minor} "
            f"-X {v}.gitTreeState=clean")


def ensure_built(names, progress=print):
    """Build each binary of names that the cache lacks; returns {name: seconds} of those built."""
    todo = missing(names)
    if not todo:
        return {}
    go = find_go()
    version = kubernetes_version()
    out_dir = bin_dir(version)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    with FileLock(str(cache_root() / "build.lock")):
        for name in missing(todo):  # another process may have built some while we waited
            progress(f"building {name} {version if name != 'etcd' else ''} (Go module proxy, nice -n 19) ...")
            started = time.monotonic()
            _go_build(go, name, version, out_dir)
            built[name] = time.monotonic() - started
            progress(f"built {name} in {built[name]:.0f}s -> {out_dir / name}")
    return built


def _go_build(go, name, version, out_dir):
    log = cache_root() / f"build-{name}.log"
    partial = out_dir / f".{name}.partial"
    argv = ["nice", "-n", "19", go, "build", "-trimpath", "-ldflags", ldflags(version), "-o", str(partial),
            PACKAGES[name]]
    with open(log, "wb") as out:
        try:
            proc = subprocess.run(argv, cwd=MODULE_DIR, env=go_env(go), stdout=out, stderr=subprocess.STDOUT,
                                  timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise SetupError(f"building {name} took over {BUILD_TIMEOUT_S}s; see {log}") from None
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise SetupError(f"building {name} failed (go build exit {proc.returncode}): {' | '.join(tail)}; see {log}")
    os.replace(partial, out_dir / name)  # a binary in the cache is always a whole one
