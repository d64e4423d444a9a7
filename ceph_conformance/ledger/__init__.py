"""The data ledger: known data written through every interface the target offers, before the
disruptive checks, and verified in full after every disruptive step.

Its record (names and checksums, no secrets) lives in the run's session directory, so every
pytest process of the run verifies the same ledger. A verdict names exactly what is missing,
changed or unreadable. Every part's verification is bounded: a read that Ceph cannot serve
fails the part at its bound instead of hanging the step.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..bounded import OperationTimeout, bounded
from ..errors import Unsupported
from ..secrets import scrub
from .base import Findings
from .cephfs_files import CephfsFiles
from .database_rows import DatabaseRows
from .rados_objects import RadosObjects
from .s3_objects import S3Objects

PARTS = {"rados": RadosObjects, "s3": S3Objects, "database": DatabaseRows, "cephfs": CephfsFiles}


@dataclass
class Verdict:
    findings: list
    seconds: float
    not_offered: dict = field(default_factory=dict)

    @property
    def ok(self):
        return all(f.ok for f in self.findings)

    def problems(self):
        return [p for f in self.findings for p in f.problems()]

    def summary(self):
        if self.ok:
            return "intact: " + ", ".join(f"{f.checked} {f.kind}" for f in self.findings)
        return "NOT intact: " + " | ".join(self.problems())


class Ledger:
    def __init__(self, target, scope, namer, io_timeout):
        self.target = target
        self.io_timeout = io_timeout
        self.parts = {key: cls(target, scope, namer, io_timeout) for key, cls in PARTS.items()}
        self.record = None

    # -- writing ------------------------------------------------------------------------------------
    def write(self, progress=print):
        """Write every part the target offers; returns the record (kept by the caller). The parts
        are written side by side: each waits on its own interface (RADOS, S3, a database on RBD,
        CephFS), and one after another they cost the disruptive phase their sum (13 s) instead of
        the slowest (8 s)."""
        t0 = time.monotonic()
        record = {"parts": {}, "not_offered": {}, "seconds": {}}

        def write_part(key, part):
            t = time.monotonic()
            try:
                written = bounded(part.write, what=f"writing the ledger's {part.kind}", timeout=self.io_timeout)
            except Unsupported as exc:
                return key, None, str(exc), 0.0
            seconds = round(time.monotonic() - t, 1)
            progress(f"ledger: wrote {part.describe(written)} in {seconds}s")
            return key, written, None, seconds

        for key, written, unsupported, seconds in self._each_part(write_part, self.parts):
            if unsupported is not None:
                record["not_offered"][key] = unsupported
            else:
                record["parts"][key], record["seconds"][key] = written, seconds
        record["written_s"] = round(time.monotonic() - t0, 1)
        self.record = record
        return record

    @staticmethod
    def _each_part(fn, parts):
        """fn(key, value) for every part at once, results in the parts' order; the first error
        raised (after all have ended) is raised here."""
        with ThreadPoolExecutor(max_workers=len(parts) or 1, thread_name_prefix="ledger") as pool:
            futures = [pool.submit(fn, key, value) for key, value in parts.items()]
        return [f.result() for f in futures]

    @property
    def rados_pool(self):
        return self.record["parts"].get("rados", {}).get("pool")

    # -- verifying ----------------------------------------------------------------------------------
    def verify(self):
        """Every part read back and compared, the parts side by side (as they are written)."""
        t0 = time.monotonic()

        def verify_part(key, rec):
            part = self.parts[key]
            found = Findings(part.kind, rec["count"], where=part.where(rec))
            try:
                bounded(lambda: part.verify(rec, found), what=f"verifying the ledger's {part.kind}",
                        timeout=self.io_timeout)
            except OperationTimeout:
                found.error = f"reads did not complete within {self.io_timeout:.0f}s (I/O blocked)"
            except Exception as exc:  # noqa: BLE001 - a part that cannot be read is a finding
                found.error = scrub(f"could not be read: {type(exc).__name__}: {exc}")
            return found

        findings = self._each_part(verify_part, self.record["parts"])
        return Verdict(findings, round(time.monotonic() - t0, 1), dict(self.record["not_offered"]))
