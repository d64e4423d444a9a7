"""Keeps keys and passwords out of reports: every secret the run handles is registered here."""

import re

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
