"""The gate against a scripted client: the narrow interface is ceph_json() and ceph()."""

import re
import time

from ceph_conformance.gate import run_gate

from .samples import OSD_DOWN, health_detail, osd_dump, status


class ScriptedCluster:
    """Answers like a cluster that is unhealthy for the first `sick_polls` polls."""

    def __init__(self, sick_polls):
        self.sick_polls = sick_polls
        self.polls = 0

    def _sick(self):
        return self.polls <= self.sick_polls

    def ceph_json(self, *args, timeout=None):
        if args == ("status",):
            self.polls += 1
            if self._sick():
                return status(health="HEALTH_WARN", checks=OSD_DOWN, pgs={"active+undersized": 57})
            return status()
        if args == ("health", "detail"):
            return health_detail("HEALTH_WARN", OSD_DOWN) if self._sick() else health_detail()
        if args == ("osd", "dump"):
            return osd_dump(down=(1,)) if self._sick() else osd_dump()
        raise AssertionError(f"unexpected command {args}")

    def ceph(self, *args, timeout=None):
        assert args == ("health", "detail")
        return "HEALTH_WARN 1 osds down\n[WRN] OSD_DOWN: 1 osds down\n    osd.1 (root=default,host=node2) is down"


def test_gate_passes_once_the_cluster_heals():
    result = run_gate(ScriptedCluster(sick_polls=2), timeout=10, interval=0.05)
    assert result.ok and result.problems == []
    assert result.message().startswith("HEALTH_OK gate passed")


def test_gate_fails_at_its_bound_with_what_it_saw():
    t0 = time.monotonic()
    result = run_gate(ScriptedCluster(sick_polls=10**6), timeout=1.0, interval=0.1)
    elapsed = time.monotonic() - t0
    assert not result.ok
    assert 1.0 <= elapsed < 3.0
    assert "osd.1 is down" in result.problems
    message = result.message()
    assert message.startswith("HEALTH_OK gate not reached after 1s (bound 1s):")
    assert "57 of 57 PGs not active+clean: 57 active+undersized" in message
    assert "ceph health detail:" in message and "osd.1 (root=default,host=node2) is down" in message


def test_gate_accepts_muted_codes_and_lists_them():
    class Muted(ScriptedCluster):
        def ceph_json(self, *args, timeout=None):
            if args == ("status",):
                return status(health="HEALTH_WARN", checks={"POOL_NO_REDUNDANCY": {
                    "severity": "HEALTH_WARN", "summary": {"message": "1 pool(s) have no replicas configured"}}})
            if args == ("health", "detail"):
                return health_detail("HEALTH_WARN", {"POOL_NO_REDUNDANCY": {
                    "severity": "HEALTH_WARN", "summary": {"message": "1 pool(s) have no replicas configured"}}})
            return osd_dump()

    result = run_gate(Muted(0), timeout=5, muted=["POOL_NO_REDUNDANCY"], interval=0.05)
    assert result.ok and result.muted_seen == ["POOL_NO_REDUNDANCY"]


def test_gate_reports_an_unreachable_cluster():
    class Dead:
        def ceph_json(self, *args, timeout=None):
            raise OSError("connection refused by mon 127.0.0.1:1")

        def ceph(self, *args, timeout=None):
            raise OSError("connection refused by mon 127.0.0.1:1")

    result = run_gate(Dead(), timeout=0.5, interval=0.1)
    assert not result.ok
    assert result.problems == ["OSError: connection refused by mon 127.0.0.1:1"]
    assert "could not read" in result.health_detail


def test_long_health_detail_is_cut_with_a_count_of_what_was_left_out():
    from ceph_conformance.gate import GateResult

    detail = "\n".join(f"pg 3.{i} is active+undersized+degraded" for i in range(100))
    result = GateResult(ok=False, waited_s=20, timeout_s=20, problems=["osd.2 is down"], health_detail=detail)
    message = result.message()
    assert message.splitlines()[1] == "  - osd.2 is down"
    assert "pg 3.24 is" in message and "pg 3.25 is" not in message and message.endswith("... (75 more lines)")


def test_health_summary_names_inactive_pgs_and_the_codes_raised():
    from ceph_conformance.bounded import health_summary

    class Degraded:
        def ceph_json(self, *args, timeout=None):
            if args == ("health", "detail"):
                return health_detail("HEALTH_WARN", OSD_DOWN)
            return status(pgs={"active+clean": 40, "undersized+degraded+peered": 17})

    summary = health_summary(Degraded())
    assert summary.startswith("PGs not active (their I/O waits): 17 undersized+degraded+peered; OSD_DOWN: 1 osds down")
    assert "(osd.1 (root=default,host=node2) is down)" in summary


class SlowCluster(ScriptedCluster):
    """Every CLI call takes `delay` seconds, or its timeout if shorter (as a hung `ceph` would)."""

    def __init__(self, delay):
        super().__init__(sick_polls=10**6)
        self.delay = delay
        self.timeouts = []

    def ceph_json(self, *args, timeout=None):
        self.timeouts.append(timeout)
        time.sleep(min(self.delay, timeout))
        if self.delay > timeout:
            raise TimeoutError(f"`ceph {' '.join(args)}` did not finish within {timeout:.1f}s")
        return super().ceph_json(*args, timeout=timeout)

    def ceph(self, *args, timeout=None):
        self.detail_read_at = time.monotonic()  # the probes are over: the gate reads what went wrong
        time.sleep(min(self.delay, timeout))
        return super().ceph(*args, timeout=timeout)


def test_a_slow_probe_cannot_carry_the_gate_past_its_bound():
    # Three calls of 2 s make a 6 s probe: checked only between probes, a 5 s bound would end
    # after 6 s (after 30 s each, were the calls hung).
    slow = SlowCluster(delay=2.0)
    t0 = time.monotonic()
    result = run_gate(slow, timeout=5.0, interval=0.1)
    probes_s = slow.detail_read_at - t0
    assert not result.ok
    assert probes_s < 5.0 + 0.3, f"the gate's probes ran {probes_s:.1f}s for a 5s bound"
    assert time.monotonic() - slow.detail_read_at < slow.delay + 0.5
    assert max(slow.timeouts) <= 5.0 and min(slow.timeouts) < 2.0, slow.timeouts
    assert "did not finish within" in " ".join(result.problems), result.problems


# -- converging or stuck (stall.py) -----------------------------------------------------------------

class StuckCluster(ScriptedCluster):
    """An OSD down for good: the same state on every probe, only the text of a timer changes."""

    def __init__(self):
        super().__init__(sick_polls=10**6)

    def ceph_json(self, *args, timeout=None):
        answer = super().ceph_json(*args, timeout=timeout)
        if args == ("health", "detail"):
            answer["checks"]["SLOW_OPS"] = {"severity": "HEALTH_WARN", "summary": {
                "message": f"1 slow ops, oldest one blocked for {30 + self.polls} sec, osd.0 has slow ops"}}
        return answer


class RecoveringCluster(ScriptedCluster):
    """Recovers over `sick_polls` probes, with recovery I/O: degraded objects drain by 10 a probe,
    or (counts_move=False) stand still while only the recovery rate says that data moves."""

    def __init__(self, sick_polls, counts_move=True):
        super().__init__(sick_polls)
        self.counts_move = counts_move

    def ceph_json(self, *args, timeout=None):
        if args == ("status",):
            self.polls += 1
            if not self._sick():
                return status()
            answer = status(health="HEALTH_WARN", pgs={"active+recovering+degraded": 7, "active+clean": 50})
            degraded = 10 * (self.sick_polls - self.polls + 1) if self.counts_move else 100
            answer["pgmap"].update(degraded_objects=degraded, recovering_objects_per_sec=12)
            return answer
        if args == ("health", "detail"):
            return health_detail("HEALTH_WARN", {"PG_DEGRADED": {
                "severity": "HEALTH_WARN", "summary": {"message": "Degraded data redundancy"}}}) \
                if self._sick() else health_detail()
        return osd_dump()


def test_a_stuck_cluster_fails_the_gate_after_the_stall_window_not_the_bound():
    t0 = time.monotonic()
    result = run_gate(StuckCluster(), timeout=30, interval=0.05, stall_window=0.5)
    elapsed = time.monotonic() - t0
    assert not result.ok and elapsed < 3, elapsed
    assert re.fullmatch(r"nothing changed for \d+s \(stall window \d+s\) and no recovery I/O", result.stalled), \
        result.stalled
    first = result.message().splitlines()[0]
    assert "(bound 30s): gave up early, the cluster is stuck (nothing changed for" in first, first
    assert "osd.1 is down" in result.problems


def test_without_a_stall_window_a_stuck_cluster_waits_out_the_bound():
    t0 = time.monotonic()
    result = run_gate(StuckCluster(), timeout=1.5, interval=0.05, stall_window=0)
    assert not result.ok and not result.stalled and time.monotonic() - t0 >= 1.5


def test_a_converging_cluster_is_waited_for_past_the_stall_window():
    cluster = RecoveringCluster(sick_polls=10)
    t0 = time.monotonic()
    result = run_gate(cluster, timeout=30, interval=0.1, stall_window=0.25)
    assert result.ok, result.message()
    assert time.monotonic() - t0 > 0.5 and cluster.polls >= 10  # longer than the window, state changing


def test_recovery_io_counts_as_progress_even_when_the_counts_stand_still():
    cluster = RecoveringCluster(sick_polls=10, counts_move=False)
    result = run_gate(cluster, timeout=30, interval=0.1, stall_window=0.25)
    assert result.ok, result.message()


def test_a_probe_cut_short_by_the_bound_does_not_replace_what_the_cluster_said():
    # The last probe starts with little time left; its call times out because of the gate's own
    # bound, not because the mons are gone: the verdict keeps the last real answer.
    from ceph_conformance.errors import CommandError

    class SlowAtTheEnd(ScriptedCluster):
        def ceph_json(self, *args, timeout=None):
            if self.polls >= 2 and args == ("status",) and timeout < 30:
                raise CommandError(["ceph", *args], None, "", timeout=timeout)
            return super().ceph_json(*args, timeout=timeout)

    result = run_gate(SlowAtTheEnd(sick_polls=10**6), timeout=3, interval=1)
    assert not result.ok
    assert "osd.1 is down" in result.problems, result.problems
    assert not any("cannot reach" in p for p in result.problems), result.problems
