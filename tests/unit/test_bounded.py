"""Operations abandoned at their bound are accounted for until they end."""

import socket
import threading

import pytest

from ceph_conformance.bounded import OperationTimeout, bounded, settle_abandoned
from ceph_conformance.clients.web import Unreachable
from ceph_conformance.plugin.execution import one_line_failure


def test_an_abandoned_operation_is_settled_before_teardown_and_named_while_blocked():
    release = threading.Event()
    a, b = socket.socketpair()  # a read that blocks until the other end writes: real blocking I/O

    def blocked_read():
        release.wait(30)
        return a.recv(1)

    with pytest.raises(OperationTimeout, match="reading the volume did not complete within 0s"):
        bounded(blocked_read, what="reading the volume", timeout=0.2)
    assert settle_abandoned(0.2) == ["reading the volume"]  # still blocked: named, not forgotten
    release.set()
    b.send(b"x")
    assert settle_abandoned(10) == []  # it ended: nothing left to wait for
    a.close()
    b.close()


def test_a_finished_operation_leaves_nothing_to_settle():
    assert bounded(lambda: 42, what="quick", timeout=5) == 42
    assert settle_abandoned(0) == []


def test_unreachable_endpoint_is_said_only_for_object_checks():
    exc = Unreachable("GET http://127.0.0.1:1/: Connection refused")
    assert "S3 endpoint unreachable" in one_line_failure(exc, object_check=True)
    # A web app on CephFS that refuses connections is not RGW: its own traceback and message stand.
    assert one_line_failure(exc, object_check=False) is None
    timeout = OperationTimeout("writing did not complete within 5s")
    assert one_line_failure(timeout, object_check=False) == "writing did not complete within 5s"
