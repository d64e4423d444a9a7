"""The run's order: the baseline first; disruptive checks after every other check, one at a time,
and not after a failed gate."""

import threading
import time

import pytest

from ceph_conformance.gate import GateResult
from ceph_conformance.ordering import Coordinator, OrderError, make_scheduler, order_key
from ceph_conformance.plugin.scheduling import run_order
from ceph_conformance.waits import WaitTimeout


class Item:
    def __init__(self, nodeid, *markers):
        self.nodeid = nodeid
        self.markers = set(markers)

    def get_closest_marker(self, name):
        return name if name in self.markers else None


ITEMS = [Item("suites/test_removal.py::test_b", "removal", "disruptive"), Item("suites/test_object.py::test_a"),
         Item("suites/test_scale.py::test_c", "scale", "disruptive"), Item("suites/test_block.py::test_d")]


def test_disruptive_checks_sort_last_scale_out_before_removal():
    ordered = sorted(ITEMS, key=order_key)
    assert [i.nodeid.split("::")[1] for i in ordered] == ["test_a", "test_d", "test_c", "test_b"]


def test_a_run_puts_health_first_then_the_baseline_and_disruptive_checks_last():
    items = [*ITEMS, Item("suites/test_baseline.py::test_e", "baseline", "measures"),
             Item("suites/test_health.py::test_f", "health")]
    ordered = sorted(items, key=run_order)
    assert [i.nodeid.split("::")[1] for i in ordered] == ["test_f", "test_e", "test_a", "test_d", "test_c", "test_b"]


def test_the_barrier_opens_only_when_every_other_check_has_finished(tmp_path):
    worker, controller = Coordinator(tmp_path), Coordinator(tmp_path)
    worker.write_plan(ITEMS, lambda item: True)
    controller.note_finished("suites/test_object.py::test_a")
    with pytest.raises(WaitTimeout) as caught:
        worker.wait_for_others(timeout=0.3)
    assert "1 still running or queued: suites/test_block.py::test_d" in str(caught.value)

    threading.Timer(0.3, controller.note_finished, ["suites/test_block.py::test_d"]).start()
    t0 = time.monotonic()
    worker.wait_for_others(timeout=10)
    assert time.monotonic() - t0 < 5


def test_the_other_checks_wait_for_the_baseline_to_finish(tmp_path):
    baseline = Item("suites/test_baseline.py::test_e", "baseline", "measures")
    worker, controller = Coordinator(tmp_path), Coordinator(tmp_path)
    worker.write_plan([*ITEMS, baseline], lambda item: True)
    assert worker.is_first(baseline.nodeid) and not worker.is_first("suites/test_object.py::test_a")
    controller.note_finished("suites/test_object.py::test_a")  # another check's end opens nothing
    with pytest.raises(WaitTimeout, match="suites/test_baseline.py::test_e"):
        worker.wait_for_first(timeout=0.3)
    threading.Timer(0.3, controller.note_finished, [baseline.nodeid]).start()
    t0 = time.monotonic()
    worker.wait_for_first(timeout=10)
    assert time.monotonic() - t0 < 5


def test_without_a_baseline_selected_no_check_waits_for_one(tmp_path):
    coord = Coordinator(tmp_path)
    coord.write_plan(ITEMS, lambda item: True)
    t0 = time.monotonic()
    coord.wait_for_first(timeout=5)
    assert time.monotonic() - t0 < 1


def test_without_xdist_a_reordered_run_fails_at_once_instead_of_waiting_forever(tmp_path):
    coord = Coordinator(tmp_path)
    coord.write_plan(ITEMS, lambda item: True)
    coord.note_finished("suites/test_object.py::test_a")
    with pytest.raises(OrderError, match=r"1 non-disruptive checks are ordered after the disruptive ones"):
        coord.wait_for_others(timeout=10, alone=True)
    coord.note_finished("suites/test_block.py::test_d")
    coord.wait_for_others(timeout=10, alone=True)


def test_with_no_other_checks_selected_the_barrier_is_open(tmp_path):
    coord = Coordinator(tmp_path)
    coord.write_plan([i for i in ITEMS if "disruptive" in i.markers], lambda item: True)
    coord.wait_for_others(timeout=1)


def test_one_disruptive_check_at_a_time(tmp_path):
    first = Coordinator(tmp_path).turn(timeout=1)
    with pytest.raises(WaitTimeout, match="the previous disruptive check to finish"):
        Coordinator(tmp_path).turn(timeout=0.3)
    first.release()
    Coordinator(tmp_path).turn(timeout=1).release()


def test_a_failed_gate_after_a_disruptive_check_stops_the_next_ones(tmp_path):
    coord = Coordinator(tmp_path)
    assert coord.gate_failure() is None
    coord.record_gate("suites/test_scale.py::test_c", GateResult(ok=True, waited_s=2, timeout_s=300))
    assert coord.gate_failure() is None
    coord.record_gate("suites/test_scale.py::test_c", GateResult(ok=False, waited_s=300, timeout_s=300,
                                                                  problems=["3 of 80 PGs not active+clean"]))
    message = coord.gate_failure()
    assert message.startswith("not run: the HEALTH_OK gate after test_c failed after 300s")
    assert "3 of 80 PGs not active+clean" in message


def test_the_gate_accepts_a_failed_hosts_osds_only_until_the_host_is_removed(tmp_path):
    coord = Coordinator(tmp_path)
    assert coord.failed_on_purpose() == []
    coord.note("failed-host", {"host": "node1", "osds": [0, 3]})
    assert coord.failed_on_purpose() == [0, 3]
    coord.note("removed-host", {"host": "node1", "osds": [0, 3]})
    assert coord.failed_on_purpose() == []


class Worker:
    """What xdist's scheduler needs of a worker: it is sent work, and may be shut down."""

    shutting_down = False

    def __init__(self, name, log):
        self.gateway = type("Gateway", (), {"id": name})()
        self.log = log

    def send_runtest_some(self, indexes):
        self.log += [(self, i) for i in indexes]

    def shutdown(self):
        self.shutting_down = True


@pytest.mark.parametrize("dist", ["loadscope", "loadfile", "load"])
def test_xdist_sends_the_disruptive_checks_last_to_one_worker_in_order(pytester, tmp_path, dist):
    # Through xdist's own scheduling, not by calling our override: if xdist stopped consulting
    # _split_scope (a private extension point its own loadfile and loadgroup modes use), this fails.
    coord = Coordinator(tmp_path)
    ordered = sorted(ITEMS, key=order_key)
    coord.write_plan(ordered, lambda item: True)
    scheduler = make_scheduler(pytester.parseconfig("--tx", "2*popen", "--dist", dist), None, coord)
    sent = []
    workers = [Worker("gw0", sent), Worker("gw1", sent)]
    collection = [item.nodeid for item in ordered]
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    done = 0
    while done < len(sent):  # each worker finishes what it was sent; xdist hands out the rest
        worker, index = sent[done]
        scheduler.mark_test_complete(worker, index)
        done += 1
    order = [collection[i] for _, i in sent]
    assert sorted(order) == sorted(collection), order
    assert order[-2:] == ["suites/test_scale.py::test_c", "suites/test_removal.py::test_b"], order
    assert sent[-1][0] is sent[-2][0], "the disruptive checks went to two workers"
    assert make_scheduler(pytester.parseconfig("--tx", "2*popen", "--dist", "each"), None, coord) is None
