"""Plain HTTP requests, as curl makes them: an error status is an answer, not an exception, and no
header is sent that the caller did not ask for beyond requests' own (Host, User-Agent, Accept,
Accept-Encoding, Connection, Content-Length).

That matters for presigned URLs: urllib gives every request with a body
`Content-Type: application/x-www-form-urlencoded`, and RGW 20.2.4 refuses a SigV4 request carrying a
Content-Type that is not among its signed headers ("'content-type' supplied but not in
CanonicalHeaders", AccessDenied), where 16.2 and 18.2 accepted it."""

import requests


class NoAnswer(TimeoutError):
    """The server took the request and did not answer within the bound."""


class Unreachable(ConnectionError):
    """No connection could be made (refused, reset, no route)."""


def http_get(url, timeout):
    """(status, body) of a GET; see http_request."""
    status, _, body = http_request("GET", url, timeout)
    return status, body


def http_request(method, url, timeout, body=None, headers=None):
    """(status, headers, body) of any request (a GET, a PUT to a presigned URL, a CORS preflight
    OPTIONS). headers: the answer's, case-insensitive. A server that accepts the connection and stays
    silent for timeout (connecting, or between two reads of the answer) raises NoAnswer; a connection
    that cannot be made raises Unreachable (an OSError). Neither message carries the URL's query,
    which for a presigned URL is a credential."""
    where = f"{method} {url.split('?', 1)[0]}"
    try:
        resp = requests.request(method, url, data=body, headers=headers, timeout=(timeout, timeout))
    except requests.Timeout:
        raise NoAnswer(f"{where}: no answer within {timeout:.0f}s") from None
    except requests.ConnectionError as exc:
        raise Unreachable(f"{where}: {_reason(exc)}") from None
    return resp.status_code, resp.headers, resp.content


def _reason(exc):
    """The innermost OS error's words ("Connection refused"), not urllib3's wrapper, whose text names
    the full URL."""
    seen = exc
    for _ in range(10):  # the chain is a few links long; never follow a cycle
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "reason", None)
    return type(exc).__name__
