"""S3 on Rook: the run's CephObjectStore behind its NodePort Service, users as CephObjectStoreUsers
(their keys from the Secret Rook writes), and the ObjectBucketClaims' buckets and keys.

ObjectBucketClaim users may own only their claimed bucket (Rook sets max-buckets), so the checks,
which create buckets of their own, get CephObjectStoreUsers; the claims are proven at bring-up."""

from ...clients.s3 import S3Credentials
from ...dataplane.objectstore import ObjectStore
from ...errors import CommandError, SetupError
from ...secrets import register
from ...waits import WaitTimeout, wait_for
from . import cluster
from .readiness import rook_resource_state


def endpoint_of(nodes, service, node_address=None):
    """http://<node InternalIP>:<nodePort> of a NodePort Service (the first node with an address), or
    at node_address (--node-address: where this host reaches the nodes' ports, e.g. the test bed's
    end of its veth)."""
    ports = [p.get("nodePort") for p in (service or {}).get("spec", {}).get("ports", []) if p.get("nodePort")]
    if not ports:
        raise SetupError(f"the S3 Service {(service or {}).get('metadata', {}).get('name')} has no node port")
    if node_address:
        return f"http://{node_address}:{ports[0]}"
    for node in nodes:
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return f"http://{addr['address']}:{ports[0]}"
    raise SetupError("no node of the cluster has an InternalIP to reach the S3 node port on")


def credentials_from_secret(uid, data, access="AccessKey", secret="SecretKey"):
    """S3Credentials from a Secret's decoded data, the secret key registered first."""
    if not data or access not in data or secret not in data:
        raise SetupError(f"no S3 keys ({access}, {secret}) for {uid} in its Secret")
    return S3Credentials(uid, data[access], register(data[secret]))


class RookObjectStore(ObjectStore):
    def __init__(self, kube, settings, endpoint, tools_client, timeout=300.0):
        self.kube = kube
        self.s = settings
        self.endpoint = endpoint
        self.ceph = tools_client  # a CephClient through the toolbox: purges a user's buckets
        self.timeout = timeout

    def new_user(self, name):
        self.kube.apply(cluster.object_user(self.s, name))

        def ready():
            done, state = rook_resource_state(self.kube.get("ceph.rook.io/v1", "CephObjectStoreUser", name,
                                                            self.s.namespace), "CephObjectStoreUser")
            return done and self._secret(name) is not None, state

        try:
            wait_for(ready, what=f"S3 user {name} (CephObjectStoreUser) to be Ready", timeout=self.timeout, interval=3)
        except WaitTimeout as exc:
            raise SetupError(str(exc)) from None
        return self.credentials(name)

    def _secret(self, name):
        return self.kube.read_secret(self.s.namespace, cluster.object_user_secret(self.s, name))

    def credentials(self, name):
        return credentials_from_secret(name, self._secret(name))

    def remove_user(self, credentials):
        name = credentials.uid
        try:
            # Rook keeps a user that still owns buckets; the checks' leftovers go with it.
            self.ceph.tool("radosgw-admin", "user", "rm", "--uid", name, "--purge-data", timeout=120)
        except CommandError as exc:
            if "could not find user" not in exc.output and "does not exist" not in exc.output:
                return str(exc)
        self.kube.delete("ceph.rook.io/v1", "CephObjectStoreUser", name, self.s.namespace)
        try:
            wait_for(lambda: (self.kube.get("ceph.rook.io/v1", "CephObjectStoreUser", name, self.s.namespace) is None,
                              "still there"), what=f"CephObjectStoreUser {name} to go", timeout=120, interval=3)
        except WaitTimeout as exc:
            return str(exc)
        return None

    def bucket_claim(self, role):
        """(bucket name, S3Credentials) of one of the run's ObjectBucketClaims, from the ConfigMap and
        Secret Rook made for it."""
        claim = cluster.bucket_claim(self.s, role)["metadata"]
        cm = self.kube.get("v1", "ConfigMap", claim["name"], claim["namespace"])
        if cm is None:
            raise SetupError(f"ObjectBucketClaim {claim['name']}: no ConfigMap yet")
        data = self.kube.read_secret(claim["namespace"], claim["name"])
        creds = credentials_from_secret(claim["name"], data, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        return cm["data"]["BUCKET_NAME"], creds

