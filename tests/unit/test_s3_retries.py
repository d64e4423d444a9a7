"""The S3 client records the 5xx answers boto3 retries, which it would otherwise hide."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from ceph_conformance.clients.s3 import RetryLog, make_client

LISTING = (b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Owner><ID>u</ID></Owner>'
           b"<Buckets></Buckets></ListAllMyBucketsResult>")


@pytest.fixture
def flaky_gateway():
    """An HTTP server that answers the first `failures` requests 503 (and, with `every`, each
    every-th request), the rest with an empty listing."""
    state = {"failures": 1, "seen": 0, "every": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            with lock:
                state["seen"] += 1
                refuse = state["seen"] <= state["failures"] or (state["every"] and not state["seen"] % state["every"])
            status, body = (503, b"<Error><Code>SlowDown</Code></Error>") if refuse else (200, LISTING)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


CREDS = SimpleNamespace(access_key="AKIAEXAMPLE", secret_key="not-a-secret")


def test_a_retried_503_is_recorded_and_said(flaky_gateway):
    endpoint, state = flaky_gateway
    said = []
    log = RetryLog(say=said.append)
    client = make_client(endpoint, CREDS, retry_log=log)
    assert client.list_buckets()["Buckets"] == []  # the retry hid the 503 from the caller
    assert state["seen"] == 2 and log.retries == 1
    assert log.server_errors() == [{"operation": "ListBuckets", "status": "HTTP 503", "attempt": 1, "retried": True}]
    assert said == ["S3 retry: HTTP 503 on ListBuckets (attempt 1), retried by the SDK"]


def test_a_503_on_the_last_attempt_is_not_counted_as_retried(flaky_gateway):
    endpoint, state = flaky_gateway
    state["failures"] = 10
    log = RetryLog(say=lambda _line: None)
    client = make_client(endpoint, CREDS, max_attempts=3, retry_log=log)  # 3 attempts: 2 retries
    with pytest.raises(Exception, match="SlowDown|503"):
        client.list_buckets()
    assert state["seen"] == 3
    assert log.retries == 2 and [a["retried"] for a in log.answers] == [True, True, False]


def test_no_retry_no_record(flaky_gateway):
    endpoint, state = flaky_gateway
    state["failures"] = 0
    log = RetryLog(say=lambda _line: None)
    make_client(endpoint, CREDS, retry_log=log).list_buckets()
    assert log.retries == 0 and log.answers == []


def test_retries_of_concurrent_calls_are_each_recorded(flaky_gateway):
    # Calls from several threads (as boto3's transfers make) settle in any order.
    from concurrent.futures import ThreadPoolExecutor

    endpoint, state = flaky_gateway
    state["failures"], state["every"] = 0, 7
    log = RetryLog(say=lambda _line: None)
    client = make_client(endpoint, CREDS, retry_log=log)
    with ThreadPoolExecutor(8) as pool:
        retried = sum(pool.map(lambda _: client.list_buckets()["ResponseMetadata"]["RetryAttempts"], range(60)))
    assert retried > 0 and log.retries == retried and len(log.server_errors()) == retried
