"""Container images built with buildah in a storage of their own, and pushed to a registry.

Images are built FROM scratch, one layer per `buildah copy` + `buildah commit`, from files the caller
gives as bytes. Everything buildah keeps lives under the builder's directory of the run: its image
storage (--root, --runroot; the vfs driver, which needs no mounts that could outlive a run), its
signature policy and temporary files; and, since buildah as root also writes a blob-info cache to
/var/lib/containers/cache whatever --root says, each buildah runs in a private mount namespace with
the builder's own directory bound over /var/lib/containers. The host's containers storage and cache
are never touched; close() removes the lot.
"""

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..commands import run
from ..errors import CommandError, SetupError
from ..host import processes

HOST_CONTAINERS = Path("/var/lib/containers")
# Binds the builder's directory ($0) over the host's containers directory for this buildah alone.
PRIVATE = 'mount --bind "$0" /var/lib/containers && exec "$@"'


class ImageBuildError(Exception):
    """A buildah step failed or overran its bound; the message names the step and buildah's words."""


@dataclass
class Image:
    """A built image: its local name and, per layer (bottom first), the files that layer adds."""

    name: str
    layers: list = field(default_factory=list)  # [{path in the image: bytes}]


class ImageBuilder:
    def __init__(self, work_dir, timeout=120.0, push_timeout=120.0):
        """timeout bounds each local buildah step; push_timeout a push (the registry and its storage
        answering)."""
        self.work_dir = Path(work_dir)
        self.timeout = timeout
        self.push_timeout = push_timeout
        self._contexts = 0

    def _dir(self, name):
        path = self.work_dir / name
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def open(self):
        if shutil.which("buildah") is None:
            raise SetupError("buildah is not installed: install it with `make deps` (or apt-get install buildah)")
        self.work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        policy = self.work_dir / "policy.json"
        policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        return self

    def _buildah(self, *args, policy=False, timeout=None):
        what = " ".join(str(a) for a in args if not str(a).startswith(str(self.work_dir)))  # for errors
        if policy:  # the subcommand's option: our own policy, not the host's /etc/containers/policy.json
            args = (args[0], "--signature-policy", self.work_dir / "policy.json", *args[1:])
        argv = ["buildah", "--root", self._dir("root"), "--runroot", self._dir("runroot"), "--storage-driver", "vfs",
                *args]
        if HOST_CONTAINERS.is_dir():
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", PRIVATE, self._dir("varlib"), *argv]
        env = {processes.OWNER_ENV: str(self.work_dir), "TMPDIR": str(self._dir("tmp"))}
        try:
            return run(argv, timeout=timeout or self.timeout, env=env).stdout.strip()
        except CommandError as exc:
            how = (f"did not finish within {exc.timeout:.0f}s" if exc.timeout is not None
                   else f"exited with {exc.returncode}")
            said = " ".join(exc.output.split())[-800:]
            raise ImageBuildError(f"`buildah {what}` {how}: {said}") from None

    def build(self, name, layers, base=None):
        """An image named name: base (an Image, or scratch) plus one layer per {path: bytes} of layers."""
        below = list(base.layers) if base is not None else []
        source = base.name if base is not None else "scratch"
        for i, files in enumerate(layers, 1):
            self._contexts += 1
            context = self._dir(f"context-{self._contexts}")
            for path, data in files.items():
                (context / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                (context / path.lstrip("/")).write_bytes(data)
            container = self._buildah("from", source, policy=True).splitlines()[-1]
            try:
                self._buildah("copy", container, f"{context}/.", "/")
                step = name if i == len(layers) else f"{name}-layer{i}"
                self._buildah("commit", "-q", container, step)
            finally:
                self._buildah("rm", container)
            shutil.rmtree(context)
            below.append(dict(files))
            source = step
        return Image(name, below)

    def push(self, image, destination):
        """Push image to destination (host:port/repository:tag) over plain HTTP as an OCI image with
        gzip layers; the manifest digest buildah pushed."""
        digest_file = self._dir("tmp") / f"{image.name}.digest"
        self._buildah("push", "--tls-verify=false", "--format", "oci", "--digestfile", digest_file, image.name,
                      f"docker://{destination}", policy=True, timeout=self.push_timeout)
        return digest_file.read_text().strip()

    def close(self):
        """Remove the builder's containers, images and directory; what could not be removed."""
        problems = []
        if (self.work_dir / "root").is_dir():
            for args in (("rm", "--all"), ("rmi", "--all", "--force")):
                try:
                    self._buildah(*args, timeout=60)
                except ImageBuildError as exc:
                    problems.append(str(exc))
        shutil.rmtree(self.work_dir, ignore_errors=True)
        if self.work_dir.exists():
            problems.append(f"could not remove {self.work_dir}")
        return problems
