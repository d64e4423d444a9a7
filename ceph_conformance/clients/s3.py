"""S3 through boto3: clients, and run-scoped buckets that are removed after each check."""

import inspect
import threading
import time
from dataclasses import dataclass
from functools import partial

import boto3
import boto3.exceptions
import botocore.exceptions
import s3transfer.exceptions
import urllib3.exceptions
from botocore.config import Config

from ..bounded import OperationTimeout, bounded


@dataclass(frozen=True)
class S3Credentials:
    uid: str
    access_key: str
    secret_key: str

    def __repr__(self):  # never print the secret, not even in a failing assertion
        return f"S3Credentials(uid={self.uid!r}, access_key={self.access_key!r}, secret_key=***)"


class RetryLog:
    """Every answer of 5xx (or lost connection) the SDK saw, and whether it retried the call.

    boto3 retries those silently; on a healthy cluster they are gateway errors worth reporting.
    Fed by botocore's events: `needs-retry` after each attempt, `after-call` with the retry count
    of the answer the caller got."""

    def __init__(self, say=print):
        self.answers = []  # {"operation", "status", "attempt", "retried"}
        self.retries = 0
        self._say = say
        self._lock = threading.Lock()  # boto3's transfers call from several threads

    def attach(self, client):
        events = client.meta.events
        events.register_first("needs-retry.s3", self._attempt)
        events.register("after-call.s3", self._answered)
        events.register("after-call-error.s3", self._gave_up)
        return client

    def _attempt(self, response, operation, attempts, caught_exception, request_dict, **_):
        if response is not None and response[0].status_code >= 500:
            status = f"HTTP {response[0].status_code}"
        elif caught_exception is not None:
            status = type(caught_exception).__name__
        else:
            return None
        with self._lock:
            self.answers.append({"operation": operation.name, "status": status, "attempt": attempts,
                                 "retried": None, "_call": id(request_dict["context"])})
        return None  # the retry handler decides; this one only records

    def _settle(self, context, retried):
        with self._lock:
            for a in self.answers:
                if a.get("_call") == id(context):
                    del a["_call"]
                    a["retried"] = retried(a["attempt"])
                    if a["retried"]:
                        self.retries += 1
                        self._say(f"S3 retry: {a['status']} on {a['operation']} (attempt {a['attempt']}), "
                                  "retried by the SDK")

    def _answered(self, parsed, context, **_):
        done = (parsed or {}).get("ResponseMetadata", {}).get("RetryAttempts", 0)
        self._settle(context, lambda attempt: attempt <= done)

    def _gave_up(self, context, **_):
        with self._lock:
            last = max((a["attempt"] for a in self.answers if a.get("_call") == id(context)), default=0)
        self._settle(context, lambda attempt: attempt < last)

    def server_errors(self):
        """The retried 5xx answers: each a gateway error the caller never saw."""
        return [a for a in self.answers if a["retried"] and a["status"].startswith("HTTP 5")]


def make_client(endpoint, creds, max_attempts=3, retry_log=None, op_timeout=60.0):
    """A boto3 S3 client. max_attempts: attempts of an operation in all, the first included.
    op_timeout bounds each operation, its retries included: every attempt gets its share for
    connecting and for each read, so a gateway that accepts connections and then goes silent
    fails the operation within op_timeout, not after minutes of retries. A managed transfer
    (upload_file, upload_fileobj, download_file, download_fileobj) is one operation too: see
    BoundedTransfer."""
    make = partial(_client, endpoint, creds, max_attempts, op_timeout)
    client = make()
    for name in TRANSFER_METHODS:
        # On this instance only: every caller of make_client (checks, ledger, fixtures) gets them.
        setattr(client, name, BoundedTransfer(name, make, op_timeout, retry_log))
    return retry_log.attach(client) if retry_log is not None else client


_CLIENTS = threading.Lock()  # boto3's default session is not thread-safe; transfers make clients from threads


def _client(endpoint, creds, max_attempts, op_timeout):
    per_attempt = op_timeout / max_attempts
    connect = min(5.0, per_attempt / 2)
    with _CLIENTS:
        return boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                # total_max_attempts counts the first attempt; botocore's max_attempts would not.
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                connect_timeout=connect,
                read_timeout=per_attempt - connect,
                # RGW 16 predates the CRC checksums newer SDKs add by default.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )


TRANSFER_METHODS = ("upload_file", "upload_fileobj", "download_file", "download_fileobj")


class TransferFailed(AssertionError):
    """A managed transfer did not complete: its budget ran out, or s3transfer gave up; the message
    names the cause (a verdict on the gateway, as a failed assertion is)."""


class BudgetSpent(Exception):
    """Raised before a request of a transfer whose budget is spent: not retryable by botocore or
    s3transfer, so an abandoned transfer stops at its next attempt instead of retrying on."""


class _TransferWatch:
    """One transfer's deadline and what its requests did, from the events of its own client."""

    def __init__(self, deadline):
        self.deadline = deadline
        self.unanswered = {}  # operation -> its requests (attempts) sent and never answered
        self.moved = 0
        self._lock = threading.Lock()

    def attach(self, client):
        client.meta.events.register_first("before-send.s3", self._sending)
        client.meta.events.register("response-received.s3", self._received)

    def _sending(self, event_name, **_):
        if time.monotonic() >= self.deadline:
            raise BudgetSpent("the transfer's budget is spent (--op-timeout)")
        with self._lock:
            op = event_name.rsplit(".", 1)[-1]
            self.unanswered[op] = self.unanswered.get(op, 0) + 1

    def _received(self, event_name, response_dict=None, **_):
        if response_dict is None:  # no answer: a timeout or a lost connection, still unanswered
            return
        with self._lock:
            op = event_name.rsplit(".", 1)[-1]
            self.unanswered[op] = max(0, self.unanswered.get(op, 0) - 1)

    def progress(self, nbytes):
        with self._lock:
            self.moved += nbytes

    def seen(self):
        with self._lock:
            waiting = ", ".join(f"{n} {op}" for op, n in sorted(self.unanswered.items()) if n)
            moved = self.moved
        return f"unanswered: {waiting or 'none (a body stalled)'}; {moved} bytes moved"


class BoundedTransfer:
    """A managed transfer (boto3's s3transfer) as one operation within op_timeout, its retries and
    s3transfer's own included, failing with its cause.

    s3transfer retries a GET whose body times out or comes back short up to 5 times, each a full
    botocore operation of op_timeout, and then says only "Max Retries Exceeded". Here the transfer
    runs under bounded() on a client of its own, whose every request is refused once the deadline
    has passed: at the deadline the caller gets the failure, and the abandoned transfer stops at
    its next attempt (the request then in flight ends within one read timeout), settled before
    teardown as every abandoned operation is."""

    def __init__(self, name, make, op_timeout, retry_log):
        self.name, self._make, self.op_timeout, self._retry_log = name, make, op_timeout, retry_log

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        client = self._make()
        if self._retry_log is not None:
            self._retry_log.attach(client)
        method = getattr(client, self.name)
        call = inspect.signature(method).bind(*args, **kwargs)
        what = f"{self.name} of {call.arguments.get('Bucket')}/{call.arguments.get('Key')}"
        start = time.monotonic()
        watch = _TransferWatch(start + self.op_timeout)
        watch.attach(client)
        theirs = call.arguments.get("Callback")
        call.arguments["Callback"] = lambda n: (watch.progress(n), theirs and theirs(n))
        try:
            return bounded(partial(method, *call.args, **call.kwargs), what=what, timeout=self.op_timeout)
        except (OperationTimeout, BudgetSpent, botocore.exceptions.ReadTimeoutError):
            # At the deadline, or earlier when botocore's own attempts of one request gave up first.
            waited = min(time.monotonic() - start, self.op_timeout)
            raise TransferFailed(f"{what}: the endpoint accepted the request but did not answer within "
                                 f"{waited:.0f}s ({watch.seen()}); a managed transfer is bounded by "
                                 f"--op-timeout ({self.op_timeout:.0f}s), retries included") from None
        except (s3transfer.exceptions.RetriesExceededError, boto3.exceptions.RetriesExceededError) as exc:
            raise TransferFailed(f"{what}: {transfer_cause(exc.last_exception)} (s3transfer gave up after its "
                                 "retries)") from None
        except CONNECTION_ERRORS as exc:
            raise TransferFailed(f"{what}: {describe_unreachable(exc)}") from None


def transfer_cause(exc):
    """What went wrong with an S3 answer, in words: a short body ("the body came back short: N of
    M bytes"), an endpoint that did not answer, or the exception's own text."""
    seen, queue = set(), [exc]
    while queue and len(seen) < 20:  # the chain is a few links long; never follow a cycle
        e = queue.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, botocore.exceptions.IncompleteReadError):
            return f"the body came back short: {e.kwargs['actual_bytes']} of {e.kwargs['expected_bytes']} bytes"
        if isinstance(e, urllib3.exceptions.IncompleteRead):
            return f"the body came back short: {e.partial} of {e.partial + e.expected} bytes"
        if isinstance(e, (botocore.exceptions.ReadTimeoutError, urllib3.exceptions.ReadTimeoutError, TimeoutError)):
            return f"the endpoint accepted the request but did not answer: {e}"
        queue += [e.__cause__, e.__context__, getattr(e, "kwargs", {}).get("error")]
        queue += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return f"{type(exc).__name__}: {exc}"


def error_code(exc):
    """The S3 error code and HTTP status of a ClientError: ('NoSuchKey', 404)."""
    err = exc.response.get("Error", {})
    return err.get("Code"), exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class S3Workspace:
    """One user's S3 for one check: makes buckets with run-scoped names and removes them after."""

    def __init__(self, client, namer):
        self.client = client
        self._namer = namer
        self.buckets = []

    def new_bucket(self, **kwargs):
        name = self._namer("bkt")
        self.client.create_bucket(Bucket=name, **kwargs)
        self.buckets.append(name)
        return name

    def cleanup(self):
        """Delete every bucket this workspace made, with its objects and open uploads.

        Returns problems as text (the user's purge at the end of the run is the fallback)."""
        problems = []
        for bucket in reversed(self.buckets):
            try:
                empty_and_delete(self.client, bucket)
            except botocore.exceptions.ClientError as exc:
                if error_code(exc)[0] != "NoSuchBucket":
                    problems.append(f"bucket {bucket}: {exc}")
            except (botocore.exceptions.BotoCoreError, OSError) as exc:
                problems.append(f"bucket {bucket}: {exc}")
        self.buckets.clear()
        return problems


def empty_and_delete(client, bucket):
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    # A versioned bucket keeps old versions and delete markers after its keys are deleted.
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if versions:
            client.delete_objects(Bucket=bucket, Delete={"Objects": versions, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


CONNECTION_ERRORS = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)


def describe_unreachable(exc):
    """A one-line failure for an S3 endpoint that cannot be reached or does not answer, or None if
    exc is not that."""
    from .web import NoAnswer, Unreachable

    if isinstance(exc, TransferFailed):
        return str(exc)
    if isinstance(exc, (botocore.exceptions.IncompleteReadError, botocore.exceptions.ResponseStreamingError)):
        return f"S3 endpoint's answer was cut short: {transfer_cause(exc)}"
    if isinstance(exc, botocore.exceptions.ReadTimeoutError):
        return (f"S3 endpoint accepted the request but did not answer: {exc} (each S3 operation is bounded "
                "by --op-timeout, retries included)")
    if isinstance(exc, NoAnswer):
        return f"S3 endpoint accepted the request but did not answer: {exc}"
    if isinstance(exc, CONNECTION_ERRORS):
        return f"S3 endpoint unreachable: {exc}. Is RGW running and listening there?"
    if isinstance(exc, Unreachable):
        return f"S3 endpoint unreachable over plain HTTP: {exc}. Is RGW running and listening there?"
    return None


def expect_error(code, status, call, *args, **kwargs):
    """Call an S3 operation that must be refused with this error code and HTTP status."""
    __tracebackhide__ = True
    try:
        result = call(*args, **kwargs)
    except botocore.exceptions.ClientError as exc:
        got = error_code(exc)
        if got != (code, status):
            raise AssertionError(f"{call.__name__} was refused with {got[0]} (HTTP {got[1]}), expected {code} "
                                 f"(HTTP {status})") from None
        return exc
    status_got = (result or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    raise AssertionError(f"{call.__name__} succeeded (HTTP {status_got}); expected it to be refused with "
                         f"{code} (HTTP {status})")
