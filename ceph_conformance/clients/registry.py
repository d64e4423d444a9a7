"""The CNCF distribution registry (Harbor's storage layer) on this host, its storage in an S3 bucket.

The registry is built from its Go module (host/gobuild.py) and runs on loopback as a process of the
run (host/processes.py: teardown and the sweep stop it). Its S3 storage driver points at a bucket of
the run on the target's S3 endpoint; its configuration, the only place the S3 keys are written, is a
0600 file in the registry's own directory of the run (never a command line, an environment or a log).
Chunks of 5 MiB, the driver's smallest, make every larger layer a multipart upload, and a layer over
8 MiB is moved into place by a multipart copy, so its object in the bucket has a multipart ETag.
"""

import os
import secrets as tokens
import shutil
import time
from pathlib import Path

import yaml

from ..commands import run
from ..errors import SetupError
from ..host import processes
from ..host.gobuild import GoProgram, ensure_built
from ..host.ports import free_port
from ..secrets import scrub
from ..waits import GiveUp, WaitTimeout, wait_for
from .web import http_get

REGISTRY = GoProgram("registry", "github.com/distribution/distribution/v3/cmd/registry", "v3.1.2",
                     expected="about 1.5 min")
CHUNK_BYTES = 5 * 1024 * 1024  # the S3 driver's smallest chunk: layers above it go up in parts
MULTIPART_COPY_ABOVE = 8 * 1024 * 1024  # the driver's default, 32 MiB, would copy the test's layers in one piece
BLOBS = "docker/registry/v2/blobs/sha256"  # where the driver keeps blobs in the bucket


class RegistryError(Exception):
    """The registry or one of its commands failed; the message says how, in the registry's words."""


def blob_key(digest):
    """The bucket key of a blob's data: docker/registry/v2/blobs/sha256/ab/abcd.../data."""
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64:
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return f"{BLOBS}/{hexdigest[:2]}/{hexdigest}/data"


def ensure_binary(progress=print):
    """The registry binary, built from the Go module proxy into the cache first if it is missing."""
    return ensure_built(REGISTRY, progress=progress)


class Registry:
    """One registry process: start(), url, garbage_collect(), stop(). work_dir is its own directory
    in the run's directory (config, log); the process carries work_dir as its mark."""

    def __init__(self, work_dir, s3_endpoint, credentials, bucket, binary=None):
        self.work_dir = Path(work_dir)
        self.s3_endpoint = s3_endpoint
        self.bucket = bucket
        self._credentials = credentials
        self.binary = binary
        self.port = None
        self.pid = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self):
        return self.work_dir / "config.yml"

    @property
    def log_path(self):
        return self.work_dir / "registry.log"

    def _config(self):
        return {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": True}},
            "storage": {
                "s3": {"accesskey": self._credentials.access_key, "secretkey": self._credentials.secret_key,
                       "region": "us-east-1", "regionendpoint": self.s3_endpoint, "forcepathstyle": True,
                       "bucket": self.bucket, "secure": self.s3_endpoint.startswith("https:"), "v4auth": True,
                       "chunksize": CHUNK_BYTES,
                       # Moving an upload into place above this size is a multipart copy too (UploadPartCopy).
                       "multipartcopythresholdsize": MULTIPART_COPY_ABOVE, "multipartcopychunksize": CHUNK_BYTES},
                "delete": {"enabled": True},
                # Blobs come through the registry, read from the bucket on each pull: no redirect to a
                # presigned S3 URL, no descriptor cache answering for the bucket.
                "redirect": {"disable": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": tokens.token_hex(16)},
            "health": {"storagedriver": {"enabled": False}},
        }

    def _write_config(self):
        self.work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            yaml.safe_dump(self._config(), out)

    def _env(self):
        # No trace exporter: the registry's default would send every span to an OTLP collector.
        return {processes.OWNER_ENV: str(self.work_dir), "OTEL_TRACES_EXPORTER": "none"}

    def log_tail(self, lines=8):
        """The end of the registry's log, one line; a Go panic's own line instead of its stack."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        all_lines = text.strip().splitlines()
        end = next((i for i, line in enumerate(all_lines) if line.startswith(("panic:", "fatal error:"))), None)
        shown = all_lines[-lines:] if end is None else all_lines[max(0, end - lines + 1):end + 1]
        return scrub(" | ".join(shown)) or "(empty log)"

    def start(self, timeout=30.0, progress=print):
        """Start the registry and wait, bounded, until GET /v2/ answers 200; a SetupError naming
        what it last saw and the end of its log otherwise."""
        if self.binary is None:
            self.binary = ensure_binary(progress)
        self.port = free_port()
        self._write_config()
        self.pid = processes.start([self.binary, "serve", self.config_path], self.log_path, self.work_dir,
                                   env=self._env())

        def probe():
            if not processes.is_alive(self.pid, str(self.work_dir)):
                raise GiveUp("the registry exited")
            status, _ = http_get(self.url + "/v2/", timeout=3)
            return status == 200, f"GET /v2/ answered HTTP {status}"

        t0 = time.monotonic()
        try:
            state = wait_for(probe, what=f"the registry on {self.url}", timeout=timeout, interval=0.2)
        except (WaitTimeout, GiveUp) as exc:
            self.stop()
            how = (f"did not answer GET {self.url}/v2/ within {timeout:.0f}s (last seen: {exc.last_state})"
                   if isinstance(exc, WaitTimeout) else f"exited before it answered GET {self.url}/v2/")
            raise SetupError(f"the registry ({REGISTRY.describe()}) {how}; its log ends: {self.log_tail()}") from None
        progress(f"registry on {self.url} (S3 bucket {self.bucket} at {self.s3_endpoint}): {state} after "
                 f"{time.monotonic() - t0:.1f}s")

    def garbage_collect(self, delete_untagged=True, timeout=120.0):
        """`registry garbage-collect [--delete-untagged] <config>`: its output (the blobs it marked and
        deleted). A RegistryError with the collector's own error (`failed to garbage collect: ...`) if
        it fails; a CommandError if it overruns timeout."""
        argv = [self.binary, "garbage-collect", *(["--delete-untagged"] if delete_untagged else []),
                self.config_path]
        proc = run(argv, timeout=timeout, env=self._env(), check=False)
        if proc.returncode != 0:
            said = " ".join((proc.stderr or proc.stdout).split())
            said = said[said.find("failed to garbage collect"):] if "failed to garbage collect" in said else said
            raise RegistryError(f"`registry garbage-collect` exited with {proc.returncode}: {scrub(said[-800:])}")
        return scrub(proc.stdout + proc.stderr)

    def stop(self):
        """Stop the process (it outlives nothing: the mark lets the sweep stop it too); what was done."""
        if self.pid is None:
            return "not started"
        outcome = processes.stop(self.pid, str(self.work_dir), timeout=10)
        self.pid = None
        return outcome

    def remove(self):
        """Remove the registry's directory (its configuration holds the S3 keys), once it is stopped."""
        shutil.rmtree(self.work_dir, ignore_errors=True)
