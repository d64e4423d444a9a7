"""Installs Node.js apps (Ghost) from the npm registry into a cache outside the repository.

Ghost's npm package is what Ghost's own installer (ghost-cli) unpacks and then installs in place:
`npm install ghost` as a dependency does not work (it names a tarball inside itself,
`file:components/...`). So, as ghost-cli does: `npm pack ghost@<version>`, unpack it into
<cache>/ghost/<version>/ghost/, and `npm install` there with:
- --omit=optional: Ghost's optional dependency sqlite3 is native, its prebuilt binary comes from
  GitHub (unreachable here), and Ghost on MySQL does not load it; sharp (image resizing, optional
  in @tryghost/image-transform) is left out with it, so Ghost runs with imageOptimization.resize
  off and stores uploads as sent. Its other optional dependency, html-to-mobiledoc (pure
  JavaScript), is what the admin API's `?source=html` needs: it is made a regular dependency;
- --legacy-peer-deps: bookshelf 1.2.0 declares a peer knex older than the knex Ghost pins (ghost-cli
  installs with yarn 1, which ignores peers);
- the package's devDependencies dropped first: one is a GitHub tarball (mock-knex), which npm
  resolves even under --omit=dev;
- --replace-registry-host: the package's yarn.lock names registry.yarnpkg.com; fetch from the npm
  registry that npm is configured with instead.
re2 (a regular dependency, for metascraper) has no binary it can fetch either, and is built from
source by node-gyp against Node's headers (most of a cold install's time on 2 cores).

Installs run under `nice -n 10`, behind a file lock (xdist workers, a user and CI never install the
same version twice at once) and into a scratch directory renamed into place: a version directory in
the cache is always a whole install, and a second call is a cache hit.
"""

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import SetupError
from . import firstuse

CACHE_ENV = "CCONF_NPM_CACHE"
DEFAULT_CACHE = Path("/var/cache/ceph-conformance")
GHOST_VERSION = "5.130.4"
# Ghost 5.130.4's engines.node: ^18.12.1 || ^20.11.1 || ^22.13.1 (Ghost 6 needs Node 22).
GHOST_NODE = ((18, 12, 1), (20, 11, 1), (22, 13, 1))
KEEP_OPTIONAL = ("@tryghost/html-to-mobiledoc",)  # what the admin API's ?source=html converts with
INSTALL_TIMEOUT_S = 1800  # measured cold: see docs/areas.md (about 10 minutes on 2 busy cores)
NPM_FLAGS = ["--omit=dev", "--omit=optional", "--legacy-peer-deps", "--no-audit", "--no-fund",
             "--replace-registry-host=registry.yarnpkg.com"]


def cache_root():
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE) / "ghost"


def ghost_dir(version=GHOST_VERSION):
    """Where Ghost's package is installed: its index.js, content/ and node_modules/."""
    return cache_root() / version / "ghost"


def is_installed(version=GHOST_VERSION):
    return (ghost_dir(version) / "node_modules" / "knex" / "package.json").exists() and \
        (ghost_dir(version) / "index.js").exists()


def node_version(node="node"):
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.strip())
    return tuple(int(x) for x in m.groups()) if m else None


def node_supported(version):
    """Whether Node version (a tuple) is in one of Ghost's ^ ranges."""
    return any(version[0] == low[0] and version >= low for low in GHOST_NODE)


def need_node():
    """The node program's path; a SetupError in one line when node or npm is missing or too old."""
    node, npm = shutil.which("node"), shutil.which("npm")
    wanted = " or ".join(f"^{'.'.join(map(str, v))}" for v in GHOST_NODE)
    if not node or not npm:
        raise SetupError(f"Ghost needs Node.js {wanted} with npm, and this host has no "
                         f"{'node' if not node else 'npm'}: install them (Debian 12: apt-get install nodejs npm)")
    have = node_version(node)
    if have is None or not node_supported(have):
        shown = ".".join(map(str, have)) if have else "unknown"
        raise SetupError(f"Ghost {GHOST_VERSION} needs Node.js {wanted}; {node} is {shown}: install a supported one")
    return node


def ensure_ghost(version=GHOST_VERSION, progress=print, lock_timeout=INSTALL_TIMEOUT_S + 120):
    """Ghost's installed package directory, installed first if the cache lacks it; a SetupError
    naming the install log if npm fails, or runs past INSTALL_TIMEOUT_S."""
    if is_installed(version):
        return ghost_dir(version)
    need_node()
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(root / "install.lock"), timeout=lock_timeout):
            if is_installed(version):  # another process installed it while we waited
                return ghost_dir(version)
            started = time.monotonic()
            with firstuse.step(f"installing Ghost {version} from the npm registry (log "
                               f"{root / f'{version}.install.log'})", "3 to 9 min",
                               f"installed Ghost into {ghost_dir(version)}", progress):
                _install(version)
            (root / version / "install-seconds").write_text(f"{time.monotonic() - started:.0f}\n")
    except Timeout:
        raise SetupError(f"another process has held {root / 'install.lock'} for over {lock_timeout}s "
                         f"(installing Ghost); see {root / f'{version}.install.log'}") from None
    return ghost_dir(version)


def _npm(argv, cwd, log, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise SetupError(f"installing Ghost took over {INSTALL_TIMEOUT_S}s; see {log}")
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.run(["nice", "-n", "10", *argv], cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=left)
        except subprocess.TimeoutExpired:
            raise SetupError(f"installing Ghost took over {INSTALL_TIMEOUT_S}s; see {log}") from None
    if proc.returncode != 0:
        lines = [line for line in log.read_text(errors="replace").splitlines() if "npm error" in line]
        raise SetupError(f"`{' '.join(argv[:3])} ...` exited with {proc.returncode} installing Ghost: "
                         f"{' | '.join(lines[:4]) or 'no npm error line'}; see {log}")


def _install(version):
    root = cache_root()
    final = root / version
    scratch = root / f".{version}.partial"
    log = root / f"{version}.install.log"
    shutil.rmtree(scratch, ignore_errors=True)  # what an install killed midway left
    scratch.mkdir(parents=True)
    log.write_bytes(b"")
    deadline = time.monotonic() + INSTALL_TIMEOUT_S
    _npm(["npm", "pack", f"ghost@{version}", "--pack-destination", str(scratch)], scratch, log, deadline)
    tarball = scratch / f"ghost-{version}.tgz"
    with tarfile.open(tarball) as tar:
        tar.extractall(scratch, filter="data")
    tarball.unlink()
    (scratch / "package").rename(scratch / "ghost")
    manifest = scratch / "ghost" / "package.json"
    package = json.loads(manifest.read_text())
    package.pop("devDependencies", None)
    optional = package.pop("optionalDependencies", {})
    package["dependencies"].update({k: v for k, v in optional.items() if k in KEEP_OPTIONAL})
    manifest.write_text(json.dumps(package, indent=2) + "\n")
    _npm(["npm", "install", *NPM_FLAGS], scratch / "ghost", log, deadline)
    if final.exists():  # an incomplete install of an older layout: never used, replaced
        shutil.rmtree(final)
    os.replace(scratch, final)


def main(argv=None):
    """`python -m ceph_conformance.host.npminstall`: install Ghost into the cache now (make deps)."""
    try:
        path = ensure_ghost()
    except SetupError as exc:
        print(f"Ghost: {exc}")
        return 1
    print(f"Ghost {GHOST_VERSION}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
