"""Kubeconfig files for the test bed's users (admin, and the components in rung 2), written 0600."""

import base64

import yaml

from .pki import write_private


def _b64(path):
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path, server, ca_cert, pair, user, cluster="ceph-conformance-testbed"):
    """A kubeconfig for one client certificate; certificates and key embedded, the file 0600."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_cert)}}],
        "users": [{"name": user, "user": {"client-certificate-data": _b64(pair.cert),
                                           "client-key-data": _b64(pair.key)}}],
        "contexts": [{"name": f"{user}@{cluster}", "context": {"cluster": cluster, "user": user}}],
        "current-context": f"{user}@{cluster}",
    }
    write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
    return path
