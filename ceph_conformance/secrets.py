"""Keeps keys and passwords out of reports: every secret the run handles is registered here."""

import os
import re
from pathlib import Path

_SECRETS: set[str] = set()
MASK = "***"


def register(value: str) -> str:
    """Remember a secret so that scrub() masks it; returns it for convenience."""
    if value and len(value) >= 8:
        _SECRETS.add(value)
    return value


def scrub(text: str) -> str:
    if not text:
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    # cephx keys look alike everywhere; mask any that slip through unregistered.
    return _CEPHX_KEY.sub(MASK, text)


def contains_secret(text: str) -> bool:
    return bool(text) and scrub(text) != text


_CEPHX_KEY = re.compile(r"\bAQ[A-Za-z0-9+/]{36}==")


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
