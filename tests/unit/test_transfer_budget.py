"""Managed transfers (boto3's upload_fileobj/download_fileobj through s3transfer) are one operation
within --op-timeout, s3transfer's own retries included, and fail naming the cause: against real
local stand-ins of a broken gateway (one silent, one cutting GET bodies short), no mocks."""

import io
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from boto3.s3.transfer import TransferConfig

from ceph_conformance.clients.s3 import S3Credentials, TransferFailed, describe_unreachable, make_client
from ceph_conformance.payload import MiB

BUDGET = 4.0
MARGIN = 1.5  # the join, the message, a loaded machine
CREDS = S3Credentials("u", "AKIAEXAMPLE", "not-a-secret")
CONFIG = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
SIZE = 12 * MiB


@pytest.fixture
def silent_gateway():
    """Accepts every connection and never answers (nor reads)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop, held = threading.Event(), []

    def serve():
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def broken_gets():
    """A gateway that answers HEAD of any object (SIZE bytes) and GETs as `mode` says: "silent"
    (taken, never answered), "short" (the right headers, half the body, then the connection
    closed) or "whole" (the body in full: a working gateway). PUTs (parts or objects) are stored
    in state["put"], and multipart uploads created and completed, for the working case."""
    state = {"mode": "silent", "gets": 0}
    closing = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _headers(self, status, length, extra=()):
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("ETag", '"0123456789abcdef0123456789abcdef"')
            self.send_header("Last-Modified", "Thu, 03 Dec 2026 12:00:00 GMT")
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()

        def do_PUT(self):  # a part or an object: stored
            state.setdefault("put", []).append(self.rfile.read(int(self.headers["Content-Length"])))
            self._headers(200, 0)

        def do_POST(self):  # CreateMultipartUpload, CompleteMultipartUpload
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            tag = "InitiateMultipartUploadResult" if self.path.endswith("?uploads") else "CompleteMultipartUploadResult"
            body = (f"<{tag}><Bucket>bkt</Bucket><Key>big</Key><UploadId>u1</UploadId>"
                    f"<ETag>\"e\"</ETag></{tag}>").encode()
            self._headers(200, len(body))
            self.wfile.write(body)

        def do_HEAD(self):
            self._headers(200, SIZE)

        def do_GET(self):
            state["gets"] += 1
            if state["mode"] == "silent":
                closing.wait(30)
                self.close_connection = True
                return
            m = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            start, end = (int(m[1]), int(m[2]) if m[2] else SIZE - 1) if m else (0, SIZE - 1)
            length = end - start + 1
            self._headers(206 if m else 200, length, [("Content-Range", f"bytes {start}-{end}/{SIZE}")] if m else [])
            self.wfile.write(b"x" * (length if state["mode"] == "whole" else length // 2))
            self.wfile.flush()
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    closing.set()
    server.shutdown()
    server.server_close()


def _fails_within_budget(call):
    t0 = time.monotonic()
    with pytest.raises(TransferFailed) as failed:
        call()
    took = time.monotonic() - t0
    assert took < BUDGET + MARGIN, f"the transfer failed after {took:.1f}s, its budget is {BUDGET:.0f}s"
    print(f"failed after {took:.1f}s: {failed.value}")
    return str(failed.value)


def test_a_managed_upload_to_a_silent_gateway_fails_within_its_budget(silent_gateway):
    client = make_client(silent_gateway, CREDS, op_timeout=BUDGET)
    said = _fails_within_budget(lambda: client.upload_fileobj(io.BytesIO(b"u" * SIZE), "bkt", "big", Config=CONFIG))
    assert re.match(r"upload_fileobj of bkt/big: the endpoint accepted the request but did not answer within "
                    r"\ds \(unanswered: 3 CreateMultipartUpload; 0 bytes moved\); a managed transfer is bounded by "
                    r"--op-timeout \(4s\), retries included$", said), said
    assert describe_unreachable(TransferFailed(said)) == said  # the check's one line


def test_a_managed_download_from_a_gateway_silent_on_gets_fails_within_its_budget(broken_gets):
    endpoint, state = broken_gets
    client = make_client(endpoint, CREDS, op_timeout=BUDGET)
    said = _fails_within_budget(lambda: client.download_fileobj("bkt", "big", io.BytesIO(), Config=CONFIG))
    assert said.startswith("download_fileobj of bkt/big: the endpoint accepted the request but did not answer "
                           "within 4s (unanswered: "), said
    assert "GetObject" in said and state["gets"] >= 1, said


def test_a_managed_download_of_short_bodies_names_the_bytes_that_came(broken_gets, tmp_path):
    endpoint, state = broken_gets
    state["mode"] = "short"
    client = make_client(endpoint, CREDS, op_timeout=BUDGET)
    said = _fails_within_budget(lambda: client.download_file("bkt", "big", str(tmp_path / "got"), Config=CONFIG))
    part = 5 * MiB
    assert said == (f"download_file of bkt/big: the body came back short: {part // 2} of {part} bytes (s3transfer "
                    "gave up after its retries)"), said
    assert state["gets"] > 1, "s3transfer did not retry the short GET"


def test_a_managed_download_from_a_working_gateway_returns_the_bytes_and_calls_back(broken_gets):
    endpoint, state = broken_gets
    state["mode"] = "whole"
    client = make_client(endpoint, CREDS, op_timeout=BUDGET)
    sink, seen = io.BytesIO(), []
    assert client.download_fileobj("bkt", "big", sink, Config=CONFIG, Callback=seen.append) is None
    assert sink.getvalue() == b"x" * SIZE and sum(seen) == SIZE


def test_a_managed_upload_to_a_working_gateway_goes_up_in_parts(broken_gets):
    endpoint, state = broken_gets
    client = make_client(endpoint, CREDS, op_timeout=BUDGET)
    data = bytes(range(256)) * (SIZE // 256)
    client.upload_fileobj(io.BytesIO(data), "bkt", "big", Config=CONFIG)
    assert sorted(map(len, state["put"])) == [2 * MiB, 5 * MiB, 5 * MiB], [len(p) for p in state["put"]]
