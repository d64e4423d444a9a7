"""Rook v1.20.6's CRDs and install manifests, and the suite's kinds of resources, against a real API server.

The test bed's kube-apiserver (built from source, etcd behind it) checks every object against
the CRDs' openAPIV3Schema, with strict field validation: what it stores was accepted by real
Kubernetes, what it refuses names the field.
"""

import copy

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ceph_conformance.run import new_run_id
from ceph_conformance.testbed.apply import (
    Rejected,
    dynamic_client,
    load_documents,
    server_side_apply,
    wait_crds_established,
)
from ceph_conformance.testbed.rook_source import ROOK_VERSION, example_manifest
from ceph_conformance.waits import wait_for

RUN = new_run_id()
LABELS = {"app.kubernetes.io/managed-by": "ceph-conformance", "ceph-conformance/run": RUN}


@pytest.fixture(scope="module")
def rook_crds(kube_api):
    docs = load_documents(example_manifest("crds.yaml"))
    server_side_apply(kube_api, docs)
    return wait_crds_established(kube_api, [d["metadata"]["name"] for d in docs], timeout=120)


@pytest.fixture(scope="module")
def namespace(kube_api, rook_crds):
    name = f"cconf-{RUN}"
    core = client.CoreV1Api(kube_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=LABELS)))
    return name


def meta(name, namespace=None):
    m = {"name": name, "labels": dict(LABELS)}
    if namespace:
        m["namespace"] = namespace
    return m


def ceph_cluster(namespace):
    # Devices listed by name, never useAllDevices (rook#9470 wiped users' disks).
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephCluster", "metadata": meta("rook-ceph", namespace),
            "spec": {"cephVersion": {"image": "quay.io/ceph/ceph:v20.2.4"}, "dataDirHostPath": "/var/lib/rook",
                     "mon": {"count": 1, "allowMultiplePerNode": True}, "mgr": {"count": 1},
                     "storage": {"useAllNodes": False, "useAllDevices": False,
                                 "nodes": [{"name": "node1", "devices": [{"name": "/dev/loop20"}]}]}}}


def block_pool(namespace):
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool", "metadata": meta("replicapool", namespace),
            "spec": {"failureDomain": "host", "replicated": {"size": 2, "requireSafeReplicaSize": True}}}


def object_store(namespace):
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStore", "metadata": meta("store", namespace),
            "spec": {"metadataPool": {"replicated": {"size": 2}}, "dataPool": {"replicated": {"size": 2}},
                     "gateway": {"port": 80, "instances": 1}}}


def filesystem(namespace):
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephFilesystem", "metadata": meta("sharedfs", namespace),
            "spec": {"metadataPool": {"replicated": {"size": 2}}, "dataPools": [{"name": "data0",
                                                                                "replicated": {"size": 2}}],
                     "metadataServer": {"activeCount": 1}}}


def rbd_storage_class(namespace):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta(f"cconf-{RUN}-rbd"),
            "provisioner": "rook-ceph.rbd.csi.ceph.com", "reclaimPolicy": "Delete", "allowVolumeExpansion": True,
            "parameters": {"clusterID": namespace, "pool": "replicapool", "imageFeatures": "layering",
                           "csi.storage.k8s.io/fstype": "ext4"}}


def bucket_storage_class(namespace):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta(f"cconf-{RUN}-bucket"),
            "provisioner": f"{namespace}.ceph.rook.io/bucket", "reclaimPolicy": "Delete",
            "parameters": {"objectStoreName": "store", "objectStoreNamespace": namespace}}


def bucket_claim(namespace):
    return {"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
            "metadata": meta("bucket", namespace),
            "spec": {"generateBucketName": f"cconf-{RUN}", "storageClassName": f"cconf-{RUN}-bucket"}}


def pvc(namespace):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("mysql", namespace),
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": f"cconf-{RUN}-rbd",
                     "resources": {"requests": {"storage": "1Gi"}}}}


def test_rooks_crds_are_established(rook_crds):
    assert "cephclusters.ceph.rook.io" in rook_crds and "objectbucketclaims.objectbucket.io" in rook_crds
    assert len(rook_crds) >= 20, rook_crds


def test_rooks_install_manifests_apply_strictly(kube_api, rook_crds):
    """common.yaml, csi-operator.yaml and operator.yaml of the pinned Rook, as Rook's CI applies them."""
    applied = []
    for name in ("common.yaml", "csi-operator.yaml", "operator.yaml"):
        docs = load_documents(example_manifest(name))
        applied += [(d["kind"], d["metadata"]["name"]) for d in server_side_apply(kube_api, docs)]
    apps = client.AppsV1Api(kube_api)
    operator = apps.read_namespaced_deployment("rook-ceph-operator", "rook-ceph")
    assert operator.spec.template.spec.containers[0].image.endswith(ROOK_VERSION), operator.spec.template
    assert ("ClusterRole", "rook-ceph-system") in applied or len(applied) > 20, applied


@pytest.mark.parametrize("make", [ceph_cluster, block_pool, object_store, filesystem, rbd_storage_class,
                                  bucket_storage_class, bucket_claim, pvc])
def test_resource_is_accepted_and_stored_as_applied(kube_api, namespace, make):
    body = make(namespace)
    [stored] = server_side_apply(kube_api, [body])
    assert stored.metadata.name == body["metadata"]["name"]
    assert stored.metadata.labels["ceph-conformance/run"] == RUN
    for key in ("spec", "parameters", "provisioner"):
        if key in body:
            kept = stored.to_dict()[key]
            assert _subset(body[key], kept), f"{key}: applied {body[key]}, stored {kept}"
    owners = [f.manager for f in stored.metadata.managedFields]
    assert "ceph-conformance" in owners, owners


def _subset(want, got):
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _subset(v, got[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(map(_subset, want, got))
    return want == got


def _broken(make, path, value):
    def build(namespace):
        body = copy.deepcopy(make(namespace))
        node = body
        for key in path[:-1]:
            node = node[key][0] if isinstance(node[key], list) else node[key]
        node[path[-1]] = value
        body["metadata"]["name"] += "-wrong"
        return body
    return build


WRONG = {
    "mon count above the schema's maximum": (_broken(ceph_cluster, ("spec", "mon", "count"), 10),
                                            "spec.mon.count"),
    "replica size as a word": (_broken(block_pool, ("spec", "replicated", "size"), "three"),
                               "spec.replicated.size"),
    "unknown storage field (a typo)": (_broken(ceph_cluster, ("spec", "storage", "useAllDevicez"), False),
                                       "useAllDevicez"),
    "claim's storage class not a string": (_broken(bucket_claim, ("spec", "storageClassName"), 5),
                                           "spec.storageClassName"),
    "gateway port as a word": (_broken(object_store, ("spec", "gateway", "port"), "eighty"),
                                  "spec.gateway.port"),
}


@pytest.mark.parametrize("case", list(WRONG), ids=list(WRONG))
def test_wrong_resource_is_rejected_by_the_schema_on_apply(kube_api, namespace, case):
    make, field = WRONG[case]
    body = make(namespace)
    with pytest.raises(Rejected) as info:
        server_side_apply(kube_api, [body])
    assert field in info.value.message, info.value
    assert str(info.value).startswith(f"{body['kind']} {namespace}/{body['metadata']['name']} rejected"), info.value
    _assert_not_stored(kube_api, namespace, body)


@pytest.mark.parametrize("case", list(WRONG), ids=list(WRONG))
def test_wrong_resource_is_rejected_as_invalid_on_create(kube_api, namespace, case):
    """A plain create goes through the CRD's validation: 422 Invalid, naming the field."""
    make, field = WRONG[case]
    body = make(namespace)
    dyn = dynamic_client(kube_api).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    with pytest.raises(ApiException) as info:
        dyn.create(body=body, namespace=namespace, query_params=[("fieldValidation", "Strict")])
    assert info.value.status in (400, 422), info.value.body
    assert field in info.value.body, info.value.body
    _assert_not_stored(kube_api, namespace, body)


def _assert_not_stored(kube_api, namespace, body):
    dyn = dynamic_client(kube_api).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    names = [o.metadata.name for o in dyn.get(namespace=namespace).items]
    assert body["metadata"]["name"] not in names, "the API server refused it, yet it is stored"


def test_create_patch_wait_and_delete_by_label(kube_api, namespace):
    """The client calls the Rook targets make: create, patch, wait for what was patched, delete by label."""
    dyn = dynamic_client(kube_api)
    pools = dyn.resources.get(api_version="ceph.rook.io/v1", kind="CephBlockPool")
    mine = f"ceph-conformance/run={RUN},purpose=label-test"
    for i in range(3):
        body = block_pool(namespace)
        body["metadata"]["name"] = f"labelled-{i}"
        body["metadata"]["labels"]["purpose"] = "label-test"
        pools.create(body=body, namespace=namespace)
    other = block_pool(namespace)
    other["metadata"] = {"name": "not-ours", "namespace": namespace, "labels": {"purpose": "someone-else"}}
    pools.create(body=other, namespace=namespace)

    pools.patch(name="labelled-0", namespace=namespace, content_type="application/merge-patch+json",
                body={"spec": {"replicated": {"size": 3}}})

    def patched():
        size = pools.get(name="labelled-0", namespace=namespace).spec.replicated.size
        return size == 3, f"replicated.size {size}"

    assert wait_for(patched, what="the patch to be visible", timeout=30) == "replicated.size 3"
    assert len(pools.get(namespace=namespace, label_selector=mine).items) == 3

    pools.delete(namespace=namespace, label_selector=mine)

    def gone():
        left = [o.metadata.name for o in pools.get(namespace=namespace, label_selector=mine).items]
        return not left, f"still there: {left}"

    wait_for(gone, what="the run's labelled pools to be deleted", timeout=30)
    assert [o.metadata.name for o in pools.get(namespace=namespace).items if o.metadata.name.startswith(
        ("labelled-", "not-ours"))] == ["not-ours"], "a delete by label removed an object without the label"


def test_stored_as_applied_sees_a_field_the_server_dropped(kube_api, namespace):
    """A create that ignores field validation has an unknown field pruned, silently: the comparison
    the acceptance test makes catches it. (Server-side apply always refuses such a field.)"""
    body = _broken(block_pool, ("spec", "replicated", "sizee"), 2)(namespace)
    pools = dynamic_client(kube_api).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    stored = pools.create(body=body, namespace=namespace, query_params=[("fieldValidation", "Ignore")])
    assert "sizee" not in stored.to_dict()["spec"]["replicated"]
    assert not _subset(body["spec"], stored.to_dict()["spec"])
