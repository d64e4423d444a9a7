"""A reverse proxy in front of a real RGW that corrupts its answers in one chosen way.

The object checks run against the proxy as their S3 endpoint: every request reaches the real
gateway unchanged (its SigV4 signature covers the Host header, which passes through as sent), and
only the answer is altered, the way a broken gateway, load balancer or cache would alter it.
"""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers about one hop (this connection), not the request: never forwarded either way.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection", "te", "upgrade"}


class Exchange:
    """One request and the answer RGW gave; a corruption changes status, headers or body in place."""

    def __init__(self, method, path, request_headers, status, reason, headers, body, request_body=b""):
        self.method, self.path, self.request_headers, self.request_body = method, path, request_headers, request_body
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    @property
    def is_object_request(self):
        """Path-style /bucket/key, plain or presigned, not a sub-resource such as ?uploads or ?acl."""
        path, _, query = self.path.partition("?")
        params = [p.split("=")[0] for p in query.split("&") if p]
        return path.strip("/").count("/") >= 1 and all(p.startswith("X-Amz-") for p in params)

    @property
    def ranged(self):
        return any(k.lower() == "range" for k, _ in self.request_headers)


def flip_a_byte_of_whole_object_gets(x):
    if x.method == "GET" and x.status == 200 and x.is_object_request and not x.ranged and x.body:
        middle = len(x.body) // 2
        x.body = x.body[:middle] + bytes([x.body[middle] ^ 0xFF]) + x.body[middle + 1:]


def drop_the_last_byte_of_ranged_gets(x):
    if x.method == "GET" and x.status == 206 and x.body:
        x.body = x.body[:-1]


def claim_listings_are_complete(x):
    if x.method == "GET" and x.status == 200 and b"<ListBucketResult" in x.body:
        x.body = re.sub(rb"<IsTruncated>true</IsTruncated>", b"<IsTruncated>false</IsTruncated>", x.body)
        x.body = re.sub(rb"<(NextContinuationToken|NextMarker)>[^<]*</\1>", b"", x.body)


def drop_user_metadata(x):
    x.headers = [(k, v) for k, v in x.headers if not k.lower().startswith("x-amz-meta-")]


def let_refused_requests_through(x):
    """Every 403 becomes a 200 with an empty body: authentication and access control gone."""
    if x.status == 403:
        x.status, x.reason, x.body = 200, "OK", b""
        x.headers = [(k, v) for k, v in x.headers if k.lower() != "content-type"]


# -- corruptions only the S3 semantics checks (suites/test_object_semantics.py) catch ------------------

FAKE_ETAG = '"0123456789abcdef0123456789abcdef"'


def report_other_etags(x):
    """A cache that answers object GETs and HEADs, and server-side copies, with an ETag of its own."""
    if x.status in (200, 206) and x.is_object_request and x.method in ("GET", "HEAD"):
        x.headers = [(k, FAKE_ETAG if k.lower() == "etag" else v) for k, v in x.headers]
    elif x.status == 200 and re.search(rb"<Copy(Object|Part)Result", x.body):
        x.body = re.sub(rb"<ETag>[^<]*</ETag>", b"<ETag>" + FAKE_ETAG.encode() + b"</ETag>", x.body)


def ignore_preconditions(x):
    """A cache that answers in full whatever the request's preconditions: no 304, no 412."""
    if x.status in (304, 412):
        x.status, x.reason, x.body = 200, "OK", b""
        x.headers = [(k, v) for k, v in x.headers if k.lower() != "content-type"]


def drop_cors_headers(x):
    x.headers = [(k, v) for k, v in x.headers if not k.lower().startswith("access-control-")]


def drop_version_ids(x):
    x.headers = [(k, v) for k, v in x.headers if k.lower() not in ("x-amz-version-id", "x-amz-delete-marker")]


def _error(x, status, code):
    x.status, x.reason = status, "Bad Request"
    x.body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code></Error>'.encode()
    x.headers = [(k, v) for k, v in x.headers if k.lower() != "content-type"] + [("Content-Type", "application/xml")]


def refuse_part_lists_out_of_order_with_invalid_part(x):
    """A gateway that refuses a CompleteMultipartUpload listing parts out of order, with the wrong
    code (InvalidPart, as if a part were missing, where S3 says InvalidPartOrder)."""
    if x.method == "POST" and "uploadId=" in x.path and x.status == 200:
        numbers = [int(n) for n in re.findall(rb"<PartNumber>(\d+)</PartNumber>", x.request_body)]
        if numbers != sorted(numbers):
            _error(x, 400, "InvalidPart")


def accept_bad_digests_and_part_lists(x):
    """A gateway that stores what it was asked to refuse: a body not matching its Content-MD5, a
    part list naming a missing part or a part under 5 MiB; each answered 200."""
    if x.status == 400 and re.search(rb"<Code>(BadDigest|InvalidPart|EntityTooSmall)</Code>", x.body):
        x.status, x.reason, x.body = 200, "OK", b""
        x.headers = [(k, v) for k, v in x.headers if k.lower() != "content-type"]


def drop_the_last_part_of_part_listings(x):
    if x.method == "GET" and x.status == 200 and b"<ListPartsResult" in x.body:
        parts = list(re.finditer(rb"<Part>.*?</Part>", x.body, re.S))
        if parts:
            x.body = x.body[:parts[-1].start()] + x.body[parts[-1].end():]
        x.body = x.body.replace(b"<IsTruncated>true</IsTruncated>", b"<IsTruncated>false</IsTruncated>")


def drop_tag_sets(x):
    if x.method == "GET" and x.status == 200 and b"<Tagging" in x.body:
        x.body = re.sub(rb"<TagSet>.*?</TagSet>", b"<TagSet></TagSet>", x.body, flags=re.S)


def accept_forged_presigned_puts(x):
    """A gateway that takes presigned uploads whatever their signature or expiry."""
    if x.method == "PUT" and x.status == 403 and "X-Amz-Signature=" in x.path:
        x.status, x.reason, x.body = 200, "OK", b""
        x.headers = [(k, v) for k, v in x.headers if k.lower() != "content-type"]


def all_of(*corruptions):
    """Several corruptions in one proxy, each applied to every answer in turn."""
    def corrupt(x):
        for c in corruptions:
            c(x)

    corrupt.__name__ = "+".join(c.__name__ for c in corruptions)
    return corrupt


def pretend_aborts(method, path, headers):
    """A gateway that answers AbortMultipartUpload 204 and never aborts (for `refuse`)."""
    if method == "DELETE" and "uploadId=" in path:
        return 204, "No Content", b""
    return False


class ServiceUnavailableEvery:
    """A gateway that answers one request in n with 503 Slow Down, without passing it on: a
    transient error the SDK retries. A retry (the SDK's amz-sdk-request header says attempt=2 or
    more) always goes through: with many calls at once, a call's retries could otherwise land on
    the n-th request again, and the SDK would give up."""

    def __init__(self, n):
        self.n = n
        self.seen = 0
        self.answered = []  # (method, path) of each request answered 503
        self._lock = threading.Lock()

    def __call__(self, method, path, headers):
        with self._lock:
            self.seen += 1
            if self.seen % self.n or "attempt=1;" not in headers.get("amz-sdk-request", "attempt=1;"):
                return False
            self.answered.append((method, path))
            return True


class SilentOn:
    """A gateway that takes the requests `which(method, path)` picks and never answers them, as a
    hung gateway or a dead backend behind a load balancer does; the others pass unchanged."""

    def __init__(self, which):
        self.which = which
        self.held = []  # (method, path) of each request left unanswered
        self._lock = threading.Lock()

    def __call__(self, method, path, headers):
        if not self.which(method, path):
            return False
        with self._lock:
            self.held.append((method, path))
        return "silent"


def object_gets(method, path):
    """GETs of objects (/bucket/key, plain or presigned), not listings or sub-resources."""
    key_path, _, query = path.partition("?")
    params = [p.split("=")[0] for p in query.split("&") if p]
    return method == "GET" and key_path.strip("/").count("/") >= 1 and all(p.startswith("X-Amz-") for p in params)


def keep_answers(x):
    """No corruption: the answers pass unchanged (for a proxy that only refuses requests)."""


SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


class CorruptingProxy:
    def __init__(self, upstream, corrupt, refuse=None):
        """refuse(method, path, headers) -> True answers that request 503 without passing it on;
        (status, reason, body) answers it so, without passing it on; "silent" holds it unanswered
        until the proxy closes."""
        target = urlsplit(upstream)
        self.upstream = (target.hostname, target.port or 80)
        self.corrupt = corrupt
        self.refuse = refuse
        self.altered = 0  # answers the corruption changed: a test asserts the proxy did something
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-proxy", daemon=True)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closing.set()  # held requests end (unanswered) with the proxy
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue answered here

            def log_message(self, *args):
                pass

            def _relay(self):
                body = self._read_body()
                verdict = proxy.refuse(self.command, self.path, self.headers) if proxy.refuse is not None else False
                if verdict == "silent":
                    with proxy._lock:
                        proxy.altered += 1
                    proxy._closing.wait(600)
                    self.close_connection = True
                    return
                if verdict:
                    with proxy._lock:
                        proxy.altered += 1
                    status, reason, xml = (503, "Slow Down", SLOW_DOWN) if verdict is True else verdict
                    self.send_response(status, reason)
                    if xml:
                        self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(xml)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(xml)
                    return
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for k, v in headers:
                        conn.putheader(k, v)
                    if body and not any(k.lower() == "content-length" for k, _ in headers):
                        conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body or None)
                    resp = conn.getresponse()
                    answer = b"" if self.command == "HEAD" else resp.read()
                    x = Exchange(self.command, self.path, headers, resp.status, resp.reason,
                                 [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP], answer,
                                 body)
                finally:
                    conn.close()
                before = (x.status, list(x.headers), x.body)
                try:
                    proxy.corrupt(x)
                except Exception as exc:  # a bug here must show as a bad answer, not a hung client
                    x.status, x.reason, x.headers, x.body = 502, "Bad Gateway", [], f"proxy: {exc!r}".encode()
                if (x.status, x.headers, x.body) != before:
                    with proxy._lock:
                        proxy.altered += 1
                self.send_response(x.status, x.reason)
                for k, v in x.headers:
                    if self.command == "HEAD" or k.lower() != "content-length":
                        self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(x.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(x.body)

            def _read_body(self):
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                        if size == 0:
                            return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _relay

        return Handler


# For the S3 tools' checks (test_object_client_failures.py).

LARGE = 1024 * 1024


def flip_a_byte_of_large_object_gets(x):
    """GETs of objects (whole or ranged) that bring 1 MiB or more come back with one byte changed:
    what only a client that reads large objects back can see (listings, HEADs and small objects
    pass unchanged)."""
    key_path = x.path.partition("?")[0]
    if x.method == "GET" and x.status in (200, 206) and key_path.strip("/").count("/") >= 1 and len(x.body) >= LARGE:
        middle = len(x.body) // 2
        x.body = x.body[:middle] + bytes([x.body[middle] ^ 0xFF]) + x.body[middle + 1:]


def hide_keys_from_listings(prefix):
    """Listings (v1 and v2) leave out every key under prefix, as a stale index or cache would; the
    objects are still there and read normally. Keys may be URL-encoded in the listing."""
    forms = {prefix.encode(), prefix.replace("/", "%2F").encode()}
    pattern = re.compile(rb"<Contents>(?:(?!</Contents>).)*?<Key>(?:" + b"|".join(map(re.escape, forms))
                         + rb")[^<]*</Key>.*?</Contents>", re.S)

    def corrupt(x):
        if x.method == "GET" and x.status == 200 and b"<ListBucketResult" in x.body:
            x.body = pattern.sub(b"", x.body)

    return corrupt
