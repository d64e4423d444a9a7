"""Test data: sizes, checksums, timings, and what differs between what was written and read."""

import hashlib
import time

MiB = 1024 * 1024
GiB = 1024**3


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def difference(got, expected):
    """None when equal; else a short account (lengths, first differing offset), never the bytes."""
    if got == expected:
        return None
    if len(got) != len(expected):
        return f"{len(got)} bytes, not the {len(expected)} expected"
    at = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
    changed = sum(a != b for a, b in zip(got, expected, strict=True))
    return f"{changed} of {len(expected)} bytes differ, the first at offset {at}"


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0

    def mb_per_s(self, nbytes):
        return nbytes / 1e6 / max(self.seconds, 1e-9)
