"""How many times this process ran each of Ceph's tools, and for how long: where a check's time
goes. A `ceph` command costs 0.2 to 1 s here (a Python start and a mon session); a check that
asked for the pools once per PG ran 97 of them (20 s) before this was counted."""

import threading
from collections import defaultdict

_LOCK = threading.Lock()
_CALLS: dict[str, list] = defaultdict(lambda: [0, 0.0])


def record(tool, seconds):
    with _LOCK:
        entry = _CALLS[str(tool).rsplit("/", 1)[-1]]
        entry[0] += 1
        entry[1] += seconds


def snapshot():
    with _LOCK:
        return {tool: tuple(v) for tool, v in _CALLS.items()}


def since(before):
    """{tool: {"calls": n, "seconds": s}} of what ran after `before` (a snapshot())."""
    out = {}
    for tool, (n, s) in snapshot().items():
        n0, s0 = before.get(tool, (0, 0.0))
        if n > n0:
            out[tool] = {"calls": n - n0, "seconds": round(s - s0, 2)}
    return out
