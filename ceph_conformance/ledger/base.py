"""What every part of the ledger shares: random payloads, and what a check found."""

import random
from dataclasses import dataclass, field

from ..payload import random_bytes


def payload(rng, low, high):
    """Incompressible bytes of a random size between low and high."""
    return random_bytes(rng.randint(low, high))


def sizes_rng(seed):
    return random.Random(seed)


@dataclass
class Findings:
    """What verifying one part found: items checked, and each item missing, changed or unreadable."""

    kind: str
    total: int
    checked: int = 0
    missing: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unreadable: list = field(default_factory=list)  # "name: why"
    error: str | None = None  # the part could not be checked at all
    where: str = ""  # the pool, bucket, image or directory the items are in

    @property
    def ok(self):
        return not (self.missing or self.changed or self.unreadable or self.error)

    def problems(self):
        kind = f"{self.kind} in {self.where}" if self.where else self.kind
        out = []
        if self.error:
            out.append(f"{kind}: {self.error} (checked {self.checked} of {self.total})")
        if self.missing:
            out.append(f"{kind}: {len(self.missing)} of {self.total} missing: {_names(self.missing)}")
        if self.changed:
            out.append(f"{kind}: {len(self.changed)} of {self.total} changed: {_names(self.changed)}")
        if self.unreadable:
            out.append(f"{kind}: {len(self.unreadable)} of {self.total} unreadable: {_names(self.unreadable)}")
        return out


def _names(items, limit=12):
    shown = "; ".join(str(i) for i in items[:limit])
    return shown + (f"; ... and {len(items) - limit} more" if len(items) > limit else "")


class Part:
    """One interface's share of the ledger. write() returns a JSON-able record; verify(record)
    returns Findings. A target lacking the interface raises Unsupported from write(). What write
    made is run-scoped: it goes with the cluster on the targets that run the disruptive checks."""

    kind = "?"

    def __init__(self, target, scope, namer, io_timeout):
        self.target = target
        self.scope = scope  # names what this ledger attaches on the target ("ledger-gw0")
        self.namer = namer
        self.io_timeout = io_timeout

    def write(self):
        raise NotImplementedError

    def verify(self, record, findings):
        raise NotImplementedError

    def describe(self, record):
        return f"{record['count']} {self.kind}"

    def where(self, record):
        """Where this part's items are (pool, bucket, image, directory), named once in findings."""
        return ""
