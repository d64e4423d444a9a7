"""Keeps keys and passwords out of reports: every secret the run handles is registered here.

A run has several processes (the pytest-xdist controller and its workers), and the one that
writes a report or log line is often not the one that learnt the secret. So every process of a
run shares its secrets through one 0600 file in the run's session directory (share()), and
scrub() masks what that file holds as well as what this process registered.
"""

import os
import re
from pathlib import Path

_SECRETS: set[str] = set()
MASK = "***"
_shared = {"path": None, "mtime": None, "secrets": set()}


def share(path):
    """Share this process's secrets with the run's other processes through the file at path."""
    _shared.update(path=Path(path), mtime=None, secrets=set())


def register(value: str) -> str:
    """Remember a secret so that scrub() masks it, in every process of the run; returns it."""
    if value and len(value) >= 8 and value not in _SECRETS:
        _SECRETS.add(value)
        if _shared["path"] is not None:
            _append(value)
    return value


def _append(secret):
    path = _shared["path"]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # One write of one line in O_APPEND: processes appending at once do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (secret + "\n").encode())
    finally:
        os.close(fd)


def _all_secrets():
    path = _shared["path"]
    if path is not None:
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None and mtime != _shared["mtime"]:  # read again only when it changed
            _shared["secrets"] = {line for line in path.read_text().splitlines() if line}
            _shared["mtime"] = mtime
    return _SECRETS | _shared["secrets"]


def scrub(text: str) -> str:
    if not text:
        return text
    for secret in sorted(_all_secrets(), key=len, reverse=True):
        text = text.replace(secret, MASK)
    # cephx keys look alike everywhere; mask any that slip through unregistered.
    text = _CEPHX_KEY.sub(MASK, text)
    # A presigned URL is a bearer credential until it expires, and RGW's access log records each
    # one it is asked for: its signature (SigV4 or V2) and any session token go.
    return _URL_SIGNATURE.sub(lambda m: m.group(1) + MASK, text)


def contains_secret(text: str) -> bool:
    return bool(text) and scrub(text) != text


_CEPHX_KEY = re.compile(r"\bAQ[A-Za-z0-9+/]{36}==")
_URL_SIGNATURE = re.compile(r"([?&](?:X-Amz-Signature|Signature|X-Amz-Security-Token)=)[^&\s\"'<>]+", re.IGNORECASE)


def write_private(path, text):
    """Write a file only its owner can read, 0600 from its creation on (never a moment at 0644):
    a fresh temporary file, created exclusively, then renamed over the path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
