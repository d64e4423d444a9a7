"""A pinned kind binary, built once from its Go module into the cache (never into the repository)."""

import os
import subprocess

from ...errors import SetupError
from .release import CACHE, go_binary, go_env

KIND_VERSION = "v0.33.0"  # a recent kind; pytest-kind's own pin (v0.17.0) predates Rook 1.20's Kubernetes


def kind_binary(version=KIND_VERSION, cache=CACHE, check_only=False, progress=print, timeout=900):
    """The path of kind `version`, built with `go install` on first use. check_only: only say (one
    line, SetupError) if it is neither built nor buildable here."""
    bin_dir = cache / "kind" / version
    path = bin_dir / "kind"
    if path.is_file() and os.access(path, os.X_OK):
        return path
    go = go_binary()  # SetupError in one line when there is no Go
    if check_only:
        return path
    bin_dir.mkdir(parents=True, exist_ok=True)
    progress(f"kind: building kind {version} from its Go module into {bin_dir} (once)")
    env = go_env(cache)
    env["GOBIN"] = str(bin_dir)
    try:
        proc = subprocess.run(["nice", "-n", "19", go, "install", f"sigs.k8s.io/kind@{version}"], cwd=cache, env=env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SetupError(f"building kind {version} took over {timeout}s; build it by hand into {bin_dir}") from None
    if proc.returncode != 0 or not path.is_file():
        said = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"cannot build kind {version} with {go}: {said}")
    return path
