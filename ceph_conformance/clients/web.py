"""Plain HTTP GETs, as curl or a browser makes them: an error status is an answer, not an exception."""

import urllib.error
import urllib.request


def http_get(url, timeout):
    """(status, body) of a GET. A refusal or a server error returns its status and body; a
    connection that fails raises OSError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()
