"""Server-side apply of manifests through the official `kubernetes` client, and the CRD readiness wait.

Custom resources need server-side apply (client-side apply's last-applied annotation does not fit
Rook's large CRDs), and strict field validation makes the API server refuse a field the schema
does not know instead of silently pruning it.
"""

import json
from pathlib import Path

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from ..waits import wait_for

FIELD_MANAGER = "ceph-conformance"


class Rejected(Exception):
    """The API server refused an object as invalid: one line naming the object and what is wrong."""

    def __init__(self, doc, status, message):
        m = doc.get("metadata", {})
        where = f"{m['namespace']}/{m.get('name')}" if m.get("namespace") else m.get("name")
        self.status = status
        self.message = message
        super().__init__(f"{doc.get('kind')} {where} rejected by the API server (HTTP {status}): {message}")


def _refusal(exc):
    """The API server's message if exc says the object is invalid, else None.

    A schema type mismatch under server-side apply comes back as HTTP 500 "failed to create typed
    patch object" (the patch cannot even be typed against the schema), not as 422 Invalid."""
    try:
        message = json.loads(exc.body).get("message", "")
    except (TypeError, ValueError):
        message = str(exc.body)
    if exc.status in (400, 422) or (exc.status == 500 and "typed patch" in message):
        return message
    return None


DISCOVERY_CACHE = "discovery-cache.json"


def api_client(kubeconfig):
    """A client of the test bed whose kubeconfig this is; its discovery cache lives in the bed's
    directory (the dynamic client's default is a file in /tmp per server, never removed)."""
    api = config.new_client_from_config(config_file=str(kubeconfig))
    api.cconf_discovery_cache = str(Path(kubeconfig).parent / DISCOVERY_CACHE)
    return api


def dynamic_client(api):
    cache = getattr(api, "cconf_discovery_cache", None)
    if cache is None:
        raise ValueError("dynamic_client: an ApiClient from api_client() (it knows where its discovery cache goes)")
    return DynamicClient(api, cache_file=cache)


def load_documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def server_side_apply(api, documents, namespace=None, strict=True):
    """Apply each document (dict) server-side; returns the objects as stored. Raises Rejected for an
    invalid one (the documents before it stay applied)."""
    dyn = dynamic_client(api)
    applied = []
    for doc in documents:
        resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        ns = doc.get("metadata", {}).get("namespace", namespace) if resource.namespaced else None
        try:
            applied.append(resource.server_side_apply(
                body=doc, namespace=ns, field_manager=FIELD_MANAGER, force_conflicts=True,
                query_params=[("fieldValidation", "Strict" if strict else "Warn")]))
        except ApiException as exc:
            message = _refusal(exc)
            if message is None:
                raise
            raise Rejected(doc, exc.status, message) from None
    return applied


def wait_crds_established(api, names, timeout=60):
    """Wait (bounded) until every CRD of names is Established; returns their names."""
    ext = client.ApiextensionsV1Api(api)
    wanted = set(names)

    def probe():
        established = {c.metadata.name for c in ext.list_custom_resource_definition().items
                       if any(cond.type == "Established" and cond.status == "True"
                              for cond in (c.status.conditions or []))}
        waiting = sorted(wanted - established)
        return not waiting, f"not yet Established: {', '.join(waiting[:5])}" if waiting else "all Established"

    wait_for(probe, what=f"{len(wanted)} CRDs to be Established", timeout=timeout, interval=0.5)
    return sorted(wanted)
