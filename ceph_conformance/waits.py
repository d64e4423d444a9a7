"""Bounded waits that fail fast and say what they last saw."""

import time

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed


class WaitTimeout(AssertionError):
    """A wait ran out of time; the message names what was awaited and the last state seen."""

    def __init__(self, what, seconds, last_state):
        self.what = what
        self.seconds = seconds
        self.last_state = last_state
        super().__init__(f"{what}: not reached after {seconds:.0f}s; last seen: {last_state}")


def wait_for(probe, *, what, timeout, interval=1.0):
    """Call probe() until it returns (True, state); return that state.

    probe returns (done, state). Exceptions from probe count as not done, with the exception as
    the state, so a flapping service does not end the wait early. Raises WaitTimeout.
    """
    __tracebackhide__ = True
    last = {"state": "nothing yet"}

    def attempt():
        try:
            done, state = probe()
        except Exception as exc:  # noqa: BLE001 - the wait reports it as the state it saw
            done, state = False, f"{type(exc).__name__}: {exc}"
        last["state"] = state
        return done

    started = time.monotonic()
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_result(lambda done: not done),
    )
    try:
        retrying(attempt)
    except RetryError:
        raise WaitTimeout(what, time.monotonic() - started, last["state"]) from None
    return last["state"]
