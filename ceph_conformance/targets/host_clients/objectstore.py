"""S3 through RGW with users made by radosgw-admin, run through the target's Ceph tools."""

from ...clients.rgw_admin import RgwAdmin
from ...dataplane.objectstore import ObjectStore


class RgwObjectStore(ObjectStore):
    def __init__(self, ceph_client, endpoint):
        self.endpoint = endpoint
        self.admin = RgwAdmin(ceph_client)

    def new_user(self, name):
        return self.admin.create_user(name)

    def credentials(self, name):
        return self.admin.credentials(name)

    def remove_user(self, credentials):
        return self.admin.remove_user(credentials.uid)
