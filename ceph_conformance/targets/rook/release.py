"""Rook's release manifests (deploy/examples) for a pinned version, from the Go module proxy.

Rook is a Go module: `go mod download` fetches the tagged release, checksummed against the Go
checksum database, into a cache outside the repository. --rook-manifests=DIR uses a copy of
deploy/examples instead (offline machines).
"""

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from ...errors import SetupError

MODULE = "github.com/rook/rook"
DEFAULT_VERSION = "1.20.6"
CACHE = Path(os.environ.get("CCONF_CACHE", "/var/cache/ceph-conformance"))
# The release's install order: CRDs, RBAC and namespace, (from v1.18) the CSI operator, the operator.
# Before v1.18 the operator itself deploys ceph-csi, configured by its ConfigMap's CSI_* settings.
OPERATOR_FILES = ("crds.yaml", "common.yaml", "csi-operator.yaml", "operator.yaml")
OPERATOR_FILES_BEFORE_CSI_OPERATOR = ("crds.yaml", "common.yaml", "operator.yaml")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: crds.yaml is 17,000 lines
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def has_csi_operator(version):
    """Whether Rook `version` installs ceph-csi through its CSI operator (csi-operator.yaml, v1.18 on)."""
    return parse_version(version)[:2] >= (1, 18)


def operator_files(version):
    """The files of Rook `version`'s install, in the order they are applied."""
    return OPERATOR_FILES if has_csi_operator(version) else OPERATOR_FILES_BEFORE_CSI_OPERATOR


def needed_files(version):
    return (*operator_files(version), "toolbox.yaml")


def parse_version(text):
    """(major, minor, patch) of "1.20.6" or "v1.20.6"; raises SetupError on anything else."""
    m = _VERSION.match(text or "")
    if not m:
        raise SetupError(f"--rook-version {text}: give a Rook release like {DEFAULT_VERSION}")
    return tuple(int(p) for p in m.groups())


def go_binary():
    # An upstream Go where one is installed, else the distribution's (Debian 12's 1.19 fetches fine).
    found = "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else shutil.which("go")
    if not found:
        raise SetupError("no `go` to fetch Rook's release from the Go module proxy: install golang-go "
                         "(`make deps`), or pass --rook-manifests=DIR with Rook's deploy/examples")
    return found


def go_env(cache=CACHE):
    env = dict(os.environ)
    env.update(GOMODCACHE=str(cache / "gomod"), GOPATH=str(cache / "gopath"), GOFLAGS="-modcacherw",
               GOTOOLCHAIN="local")
    return env


def module_dir(version, cache=CACHE, timeout=600):
    """The tree of Rook's module at `version` in the module cache, downloaded once. Returns its path."""
    parse_version(version)
    tag = "v" + version.lstrip("v")
    argv = [go_binary(), "mod", "download", "-json", f"{MODULE}@{tag}"]
    cache.mkdir(parents=True, exist_ok=True)
    try:
        # Outside any module: the download is of the tagged release alone.
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cache,
                              env=go_env(cache), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SetupError(f"`{' '.join(argv)}` did not finish within {timeout}s; "
                         "pass --rook-manifests=DIR to use a copy of Rook's deploy/examples") from None
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or info.get("Error") or not info.get("Dir"):
        said = info.get("Error") or (proc.stderr.strip().splitlines() or ["no answer"])[-1]
        raise SetupError(f"cannot fetch Rook {tag} from the Go module proxy ({said}); "
                         "pass --rook-manifests=DIR to use a copy of Rook's deploy/examples")
    return Path(info["Dir"])


def fetch(version, cache=CACHE, timeout=600):
    """deploy/examples of Rook `version` in the module cache, downloaded once. Returns its path."""
    return examples_dir(module_dir(version, cache, timeout) / "deploy" / "examples", version)


def examples_dir(path, version=DEFAULT_VERSION):
    """path, if it holds the manifests the suite applies of Rook `version`; else SetupError naming
    what is missing."""
    path = Path(path)
    gone = [name for name in needed_files(version) if not (path / name).is_file()]
    if gone:
        raise SetupError(f"--rook-manifests {path}: no {', '.join(gone)} there; give Rook's deploy/examples directory")
    return path


class Release:
    """The manifests of one Rook release: documents by file, and the CRDs' schemas."""

    def __init__(self, directory, version):
        self.dir = examples_dir(directory, version)
        self.version = version.lstrip("v")
        self.operator_files = operator_files(self.version)
        self._parsed = {}

    @classmethod
    def for_options(cls, version, manifests_dir=None, cache=CACHE):
        if manifests_dir:
            return cls(manifests_dir, version)
        return cls(fetch(version, cache), version)

    def documents(self, name):
        """The YAML documents of one file, as Python objects (empty documents dropped); a fresh
        copy each time, so that a caller's patch never reaches another's."""
        if name not in self._parsed:
            with open(self.dir / name) as f:
                self._parsed[name] = [d for d in yaml.load_all(f, Loader=_LOADER) if d]
        return copy.deepcopy(self._parsed[name])

    def image(self):
        """The operator image the release pins (docker.io/rook/ceph:vX.Y.Z)."""
        for doc in self.documents("operator.yaml"):
            if doc.get("kind") == "Deployment":
                return doc["spec"]["template"]["spec"]["containers"][0]["image"]
        raise SetupError(f"{self.dir / 'operator.yaml'}: no operator Deployment")

    def crd_schemas(self):
        """{(apiVersion, kind): openAPIV3Schema} of every CRD the release installs (Rook's in
        crds.yaml, the CSI operator's in csi-operator.yaml where the release has one)."""
        schemas = {}
        for name in self.operator_files:
            for crd in self.documents(name):
                if crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                for v in spec["versions"]:
                    schemas[(f"{spec['group']}/{v['name']}", spec["names"]["kind"])] = v["schema"]["openAPIV3Schema"]
        return schemas
