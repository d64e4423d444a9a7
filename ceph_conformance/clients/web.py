"""Plain HTTP GETs, as curl or a browser makes them: an error status is an answer, not an exception."""

import urllib.error
import urllib.request


class NoAnswer(TimeoutError):
    """The server took the request and did not answer within the bound."""


def http_get(url, timeout):
    """(status, body) of a GET. A server that accepts the request and stays silent for timeout
    (connecting, or between two reads of the answer) raises NoAnswer. A refusal or a server error
    returns its status and body; a connection that fails raises OSError."""
    where = url.split("?", 1)[0]  # a presigned URL's query is a credential
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()
    except TimeoutError:
        raise NoAnswer(f"GET {where}: no answer within {timeout:.0f}s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise NoAnswer(f"GET {where}: no answer within {timeout:.0f}s") from None
        raise


def http_request(method, url, timeout, body=None, headers=None):
    """(status, headers, body) of any request (PUT to a presigned URL, a CORS preflight OPTIONS), as
    curl makes it: an error status is an answer. headers: a case-insensitive message of the answer's
    headers. A server silent for timeout raises NoAnswer; a connection that fails raises OSError."""
    where = f"{method} {url.split('?', 1)[0]}"  # a presigned URL's query is a credential
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()
    except TimeoutError:
        raise NoAnswer(f"{where}: no answer within {timeout:.0f}s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise NoAnswer(f"{where}: no answer within {timeout:.0f}s") from None
        raise
