"""Rook's published manifests (crds.yaml, ...) at a pinned version, from Rook's Go module.

Rook is a Go module, so the Go module proxy serves its tree, deploy/examples/ included. `go mod
download` puts it in the test bed's module cache (outside the repository, verified against the
checksum database); nothing of it is committed.
"""

import json
import subprocess
from pathlib import Path

from ..errors import SetupError
from . import build

ROOK_MODULE = "github.com/rook/rook"
ROOK_VERSION = "v1.20.6"


def rook_tree(version=ROOK_VERSION):
    """The directory of Rook's module at version, downloaded into the cache if it is not there."""
    go = build.find_go()
    build.cache_root().mkdir(parents=True, exist_ok=True)
    argv = ["nice", "-n", "19", go, "mod", "download", "-json", f"{ROOK_MODULE}@{version}"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=build.go_env(go),
                              cwd=build.cache_root())
    except subprocess.TimeoutExpired:
        raise SetupError(f"downloading {ROOK_MODULE}@{version} took over 600s") from None
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info:
        said = info.get("Error") or proc.stderr.strip()[-300:]
        raise SetupError(f"could not download {ROOK_MODULE}@{version} from the Go module proxy: {said}")
    return Path(info["Dir"])


def example_manifest(name, version=ROOK_VERSION):
    """A file of Rook's deploy/examples/ (crds.yaml, common.yaml, operator.yaml, ...)."""
    path = rook_tree(version) / "deploy" / "examples" / name
    if not path.is_file():
        raise SetupError(f"{ROOK_MODULE}@{version} has no deploy/examples/{name}")
    return path
