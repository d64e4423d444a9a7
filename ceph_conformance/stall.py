"""Telling a cluster that is converging from one that is stuck, so the gate need not wait out its
whole bound on a cluster that will not heal (a daemon down and not coming back).

Converging: the cluster's state changed since the last probe (PG states, OSDs up/in, health codes,
objects degraded or misplaced), or recovery I/O is under way. Stuck: neither, for the stall window.
"""

import time

from .waits import GiveUp


class Stalled(GiveUp):
    """Nothing changed for the stall window: the wait gives up before its bound."""


class StallWatch:
    def __init__(self, window, clock=time.monotonic):
        self.window = window  # seconds; 0 or None: never give up before the bound
        self.clock = clock
        self._fingerprint = None
        self._changed_at = None

    def observe(self, snapshot):
        """Record a probe's snapshot of an unhealthy cluster; raise Stalled once it has not moved
        for the window."""
        now = self.clock()
        fingerprint = snapshot.fingerprint()
        if fingerprint != self._fingerprint or snapshot.recovering:
            self._fingerprint, self._changed_at = fingerprint, now
            return
        still = now - self._changed_at
        if self.window and still >= self.window:
            raise Stalled(f"nothing changed for {still:.0f}s (stall window {self.window:.0f}s) and no recovery I/O")
