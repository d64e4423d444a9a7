"""S3 users through radosgw-admin: temporary users for a run, removed with their data."""

import json

from ..errors import CommandError
from ..secrets import register
from .s3 import S3Credentials


class RgwAdmin:
    def __init__(self, ceph_client):
        self.ceph = ceph_client

    def create_user(self, uid):
        # RGW generates the keys: a secret of ours on radosgw-admin's command line would be in
        # /proc/<pid>/cmdline for anyone on the host to read. The secret is registered straight
        # from the JSON answer, before anything could print it.
        out = self.ceph.tool("radosgw-admin", "user", "create", "--uid", uid, "--display-name",
                             f"conformance {uid}", timeout=60)
        key = json.loads(out)["keys"][0]
        return S3Credentials(uid, key["access_key"], register(key["secret_key"]))

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
