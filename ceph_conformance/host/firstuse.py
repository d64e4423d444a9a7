"""One line in the run's main output when a long first-use step begins, and one when it ends.

Building MinIO or installing Ghost takes minutes, once per machine, and mostly inside a check's
fixture, whose output pytest captures: the terminal sat silent. During a conformance run the plugin
points these lines at its progress line (past the capture, and into the run's log); elsewhere
(`make deps`, the commands) the step's own progress callback prints them.
"""

import time
from contextlib import contextmanager

_sink = None


def set_sink(sink):
    """Where the lines go during a run; None gives them back to each step's progress callback.
    Returns the previous sink."""
    global _sink
    previous, _sink = _sink, sink
    return previous


@contextmanager
def step(doing, expected, done, progress=print):
    """`doing (first use, expected) ...` now, `... done in N s` at the end (or how it failed)."""
    say = _sink or progress
    say(f"{doing} (first use, {expected}) ...")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"... {doing} failed after {time.monotonic() - started:.0f} s")
        raise
    say(f"... {done} in {time.monotonic() - started:.0f} s")
