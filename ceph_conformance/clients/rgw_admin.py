"""S3 users through radosgw-admin: temporary users for a run, removed with their data."""

import secrets as _random
import string
from dataclasses import dataclass

from ..errors import CommandError
from ..secrets import register


@dataclass(frozen=True)
class S3Credentials:
    uid: str
    access_key: str
    secret_key: str

    def __repr__(self):  # never print the secret, not even in a failing assertion
        return f"S3Credentials(uid={self.uid!r}, access_key={self.access_key!r}, secret_key=***)"


def _token(n, alphabet):
    return "".join(_random.choice(alphabet) for _ in range(n))


class RgwAdmin:
    def __init__(self, ceph_client):
        self.ceph = ceph_client

    def create_user(self, uid):
        # We choose the keys ourselves, so they are registered as secrets before any command or
        # output could show them.
        access = _token(20, string.ascii_uppercase + string.digits)
        secret = register(_token(40, string.ascii_letters + string.digits))
        self.ceph.tool(
            "radosgw-admin", "user", "create", "--uid", uid, "--display-name", f"conformance {uid}",
            "--access-key", access, "--secret", secret, timeout=60,
        )
        return S3Credentials(uid, access, secret)

    def credentials(self, uid):
        """The keys of an existing user (registered as secrets before anything can print them)."""
        info = self.ceph.tool_json("radosgw-admin", "user", "info", "--uid", uid, timeout=60)
        key = info["keys"][0]
        return S3Credentials(uid, key["access_key"], register(key["secret_key"]))

    def remove_user(self, uid):
        """Remove the user and everything it owns. Returns an error text or None."""
        try:
            self.ceph.tool("radosgw-admin", "user", "rm", "--uid", uid, "--purge-data", timeout=120)
        except CommandError as exc:
            if "could not find user" in exc.output or "does not exist" in exc.output:
                return None
            return str(exc)
        return None

    def users_with_prefix(self, prefix):
        return [u for u in self.ceph.tool_json("radosgw-admin", "user", "list") if u.startswith(prefix)]
