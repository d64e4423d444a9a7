"""Every S3 and HTTP operation is bounded, retries included: a server that accepts connections and
then says nothing fails the operation within its budget, with a message that says so."""

import socket
import threading
import time

import botocore.exceptions
import pytest

from ceph_conformance.clients.s3 import S3Credentials, describe_unreachable, make_client
from ceph_conformance.clients.web import NoAnswer, http_get


@pytest.fixture
def silent_server():
    """A real TCP server on loopback that accepts every connection, reads, and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held = []

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", held
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_an_s3_operation_against_a_silent_gateway_ends_within_its_budget(silent_server):
    endpoint, held = silent_server
    client = make_client(endpoint, S3Credentials("u", "AKIA", "secret"), max_attempts=2, op_timeout=4)
    t0 = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError) as info:
        client.list_buckets()
    took = time.monotonic() - t0
    assert len(held) == 2, f"{len(held)} attempts reached the server; the budget allows 2"
    # Each attempt waits its share of the budget for an answer; the retry's backoff comes on top.
    assert 1.5 < took < 4 + 2.5, f"the operation took {took:.1f}s for a 4 s budget"
    said = describe_unreachable(info.value)
    assert said.startswith("S3 endpoint accepted the request but did not answer: Read timeout"), said


def test_a_plain_get_from_a_silent_server_ends_within_its_bound(silent_server):
    endpoint, _ = silent_server
    t0 = time.monotonic()
    with pytest.raises(NoAnswer, match=r"GET http://127\.0\.0\.1:\d+/bucket/key: no answer within 2s") as info:
        http_get(endpoint + "/bucket/key?X-Amz-Signature=abc", timeout=2)
    assert time.monotonic() - t0 < 3.5
    assert "X-Amz-Signature" not in str(info.value), "a presigned URL's credential is in the message"
    assert describe_unreachable(info.value).startswith("S3 endpoint accepted the request but did not answer")
