"""The quiet lock (plugin/quiet.py) between real processes, as xdist workers hold it: a measuring
check waits for the checks running in other processes, and no new check starts while it waits or
measures. POSIX locks do not conflict within one process, hence a process per holder."""

import multiprocessing
import time

from ceph_conformance.plugin.quiet import QuietLock

CTX = multiprocessing.get_context("fork")


def _hold_shared(directory, held, release):
    with QuietLock(directory).shared(timeout=5) as waited:
        assert waited is not None
        held.set()
        release.wait(10)


def _try_shared(directory, result):
    t0 = time.monotonic()
    with QuietLock(directory).shared(timeout=0.5) as waited:
        result.put((waited, time.monotonic() - t0))


def test_a_measurer_waits_for_a_running_check_and_gives_up_at_its_bound(tmp_path):
    held, release = CTX.Event(), CTX.Event()
    other = CTX.Process(target=_hold_shared, args=(tmp_path, held, release))
    other.start()
    try:
        assert held.wait(10)
        with QuietLock(tmp_path).alone(timeout=0.5) as waited:
            assert waited is None  # the other check still runs: measured, but not alone
        release.set()
        other.join(10)
        with QuietLock(tmp_path).alone(timeout=5) as waited:
            assert waited is not None and waited < 5
    finally:
        release.set()
        other.join(10)
        other.kill()


def test_no_check_starts_while_a_measurer_holds_the_cluster(tmp_path):
    result = CTX.Queue()
    with QuietLock(tmp_path).alone(timeout=5) as waited:
        assert waited is not None
        blocked = CTX.Process(target=_try_shared, args=(tmp_path, result))
        blocked.start()
        waited_shared, took = result.get(timeout=10)
        blocked.join(10)
    assert waited_shared is None and took >= 0.5, (waited_shared, took)
    # Once the measurer is done, checks start again.
    free = CTX.Process(target=_try_shared, args=(tmp_path, result))
    free.start()
    waited_shared, _ = result.get(timeout=10)
    free.join(10)
    assert waited_shared is not None
