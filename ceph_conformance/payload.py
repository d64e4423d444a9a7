"""Test data: sizes, checksums, timings, and what differs between what was written and read."""

import hashlib
import os
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


def random_bytes(n):
    """n incompressible bytes (what compresses or dedups would flatter the storage)."""
    return os.urandom(n)


def chunks_differ(read, written, chunk=4 * MiB):
    """None when every chunk read back is the one written; else which chunks differ and where."""
    if read == written:
        return None
    if len(read) != len(written):
        return f"{len(read)} chunks of {chunk // MiB} MiB read back, {len(written)} written"
    bad = [i for i, (r, w) in enumerate(zip(read, written, strict=True)) if r != w]
    return (f"{len(bad)} of {len(written)} chunks of {chunk // MiB} MiB read back differ from what was written, "
            f"the first at offset {bad[0] * chunk} (chunk {bad[0]})")
