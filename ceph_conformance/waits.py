"""Bounded waits that fail fast and say what they last saw."""

import time

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay

# A probe of Ceph's CLI needs about this long at least; one started with less time left would
# only be cut off, so the wait ends instead.
MIN_PROBE_S = 1.0


class WaitTimeout(AssertionError):
    """A wait ran out of time; the message names what was awaited and the last state seen."""

    def __init__(self, what, seconds, last_state):
        self.what = what
        self.seconds = seconds
        self.last_state = last_state
        super().__init__(f"{what}: not reached after {seconds:.0f}s; last seen: {last_state}")


class GiveUp(Exception):
    """Raised by a probe that knows waiting longer is pointless: the wait ends with it at once."""


class Deadline:
    """The time left until a bound: what each bounded call of a wait may still spend."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def remaining(self):
        return max(0.0, self.end - time.monotonic())

    def cap(self, seconds):
        """seconds, or less if the deadline comes first."""
        return min(seconds, self.remaining())


def wait_for(probe, *, what, timeout, interval=1.0, deadline_aware=False):
    """Call probe() until it returns (True, state); return that state.

    probe returns (done, state). Exceptions from probe count as not done, with the exception as
    the state, so a flapping service does not end the wait early; except GiveUp, which ends the
    wait at once and is raised to the caller. Raises WaitTimeout.

    deadline_aware: probe takes the wait's Deadline and bounds its own calls by it, so a slow
    probe cannot carry the wait past its bound; no probe starts with less than MIN_PROBE_S left
    (half the bound for waits shorter than two of those).
    """
    __tracebackhide__ = True
    last = {"state": "nothing yet"}
    deadline = Deadline(timeout)
    floor = min(MIN_PROBE_S, timeout / 2)  # a short wait still gets its first probe

    def attempt():
        if deadline_aware and deadline.remaining() < floor:
            return False  # it could not finish in time: the wait ends with the state seen last
        try:
            done, state = probe(deadline) if deadline_aware else probe()
        except GiveUp:
            raise
        except Exception as exc:  # noqa: BLE001 - the wait reports it as the state it saw
            done, state = False, f"{type(exc).__name__}: {exc}"
        last["state"] = state
        return done

    started = time.monotonic()
    # The last sleep ends at the bound, not past it.
    retrying = Retrying(stop=stop_after_delay(timeout), wait=lambda _state: deadline.cap(interval),
                        retry=retry_if_result(lambda done: not done))
    try:
        retrying(attempt)
    except RetryError:
        raise WaitTimeout(what, time.monotonic() - started, last["state"]) from None
    return last["state"]
