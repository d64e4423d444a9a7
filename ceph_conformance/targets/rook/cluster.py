"""The CephCluster and the storage the checks use, as Python objects: a block pool with its
StorageClass, a filesystem with its StorageClass, an object store with its bucket StorageClass,
users, bucket claims and an external Service."""

from .labels import mark
from .settings import ceph_config

CEPH_API = "ceph.rook.io/v1"


def _meta(name, namespace=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return meta


def ceph_cluster(s):
    """Every OSD device listed by name on its node; never useAllDevices (rook#9470: it wiped users'
    host disks on kind) nor a deviceFilter (they skip loop devices anyway)."""
    if not s.nodes or not all(s.nodes.values()):
        raise ValueError("every storage node needs at least one device listed by name")
    nodes = [{"name": node, "devices": [{"name": dev} for dev in devices]}
             for node, devices in sorted(s.nodes.items())]
    several_per_node = len(s.nodes) < max(s.mon_count, s.mgr_count)
    doc = {
        "apiVersion": CEPH_API, "kind": "CephCluster", "metadata": _meta(s.cluster_name, s.namespace),
        "spec": {
            "dataDirHostPath": s.data_dir_host_path,
            "cephVersion": {"image": s.ceph_image, "allowUnsupported": False},
            "mon": {"count": s.mon_count, "allowMultiplePerNode": several_per_node},
            "mgr": {"count": s.mgr_count, "allowMultiplePerNode": several_per_node,
                    "modules": [{"name": "rook", "enabled": False}]},
            "dashboard": {"enabled": False},
            "monitoring": {"enabled": False},
            "crashCollector": {"disable": True},
            "skipUpgradeChecks": True,
            "storage": {"useAllNodes": False, "useAllDevices": False, "nodes": nodes},
            "disruptionManagement": {"managePodBudgets": True},
            "healthCheck": {"daemonHealth": {"mon": {"interval": "45s", "timeout": "600s"}}},
        },
    }
    if has_ceph_config_spec(s):
        doc["spec"]["cephConfig"] = {"global": ceph_config(s)}
    if s.image_pull_policy:  # the daemons' pods, and the operator's image in their init containers
        doc["spec"]["cephVersion"]["imagePullPolicy"] = s.image_pull_policy
    return mark(doc, s.run_id, "cluster")


def has_ceph_config_spec(s):
    """Whether the release's CephCluster takes Ceph's settings as spec.cephConfig (Rook 1.12's CRD has
    no such field; of the releases the suite knows, 1.18 on have it)."""
    return s.rook_release >= (1, 18)


def config_override(s):
    """Rook 1.12's way to Ceph's settings: the ConfigMap rook-config-override (key `config`, ceph.conf
    text) in the cluster's namespace, applied before the CephCluster so its daemons start with it."""
    text = "[global]\n" + "".join(f"{key} = {value}\n" for key, value in ceph_config(s).items())
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("rook-config-override", s.namespace),
           "data": {"config": text}}
    return mark(doc, s.run_id, "cluster")


def cluster_documents(s):
    """The cluster phase: the CephCluster, after the ConfigMap of Ceph's settings where the release
    needs one."""
    return ([] if has_ceph_config_spec(s) else [config_override(s)]) + [ceph_cluster(s)]


def _replicated(s):
    return {"size": s.pool_size, "requireSafeReplicaSize": s.pool_size > 1}


def _failure_domain(s):
    """Copies on different nodes where there are enough; an existing Rook (nodes unknown): nodes."""
    return "host" if not s.nodes or len(s.nodes) >= s.pool_size else "osd"


def _csi_secrets(s, driver):
    params = {}
    for role, secret in (("provisioner", "provisioner"), ("controller-expand", "provisioner"),
                         ("node-stage", "node")):
        params[f"csi.storage.k8s.io/{role}-secret-name"] = f"rook-csi-{driver}-{secret}"
        params[f"csi.storage.k8s.io/{role}-secret-namespace"] = s.namespace
    return params


def block_pool(s):
    doc = {"apiVersion": CEPH_API, "kind": "CephBlockPool", "metadata": _meta(s.pool, s.namespace),
           "spec": {"failureDomain": _failure_domain(s), "replicated": _replicated(s)}}
    return mark(doc, s.run_id, "block")


def block_storage_class(s):
    doc = {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": _meta(s.storage_class("rbd")),
        "provisioner": f"{s.operator_namespace}.rbd.csi.ceph.com",
        "parameters": {"clusterID": s.namespace, "pool": s.pool, "imageFormat": "2", "imageFeatures": "layering",
                       "csi.storage.k8s.io/fstype": "xfs", **_csi_secrets(s, "rbd")},
        "allowVolumeExpansion": True, "reclaimPolicy": "Delete",
    }
    return mark(doc, s.run_id, "block")


def filesystem(s):
    doc = {
        "apiVersion": CEPH_API, "kind": "CephFilesystem", "metadata": _meta(s.filesystem, s.namespace),
        "spec": {
            "metadataPool": {"failureDomain": _failure_domain(s), "replicated": _replicated(s)},
            "dataPools": [{"name": "data", "failureDomain": _failure_domain(s), "replicated": _replicated(s)}],
            "preserveFilesystemOnDelete": False,
            # One MDS, no standby: a small cluster stays without MDS_INSUFFICIENT_STANDBY.
            "metadataServer": {"activeCount": 1, "activeStandby": False},
        },
    }
    return mark(doc, s.run_id, "sharedfs")


def subvolume_group(s):
    """The CSI driver's subvolume group (Rook's examples name it <fs>-csi)."""
    doc = {"apiVersion": CEPH_API, "kind": "CephFilesystemSubVolumeGroup",
           "metadata": _meta(f"{s.filesystem}-csi", s.namespace),
           "spec": {"name": "csi", "filesystemName": s.filesystem, "pinning": {"distributed": 1}}}
    return mark(doc, s.run_id, "sharedfs")


def filesystem_storage_class(s):
    doc = {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": _meta(s.storage_class("cephfs")),
        "provisioner": f"{s.operator_namespace}.cephfs.csi.ceph.com",
        "parameters": {"clusterID": s.namespace, "fsName": s.filesystem, "pool": f"{s.filesystem}-data",
                       **_csi_secrets(s, "cephfs")},
        "allowVolumeExpansion": True, "reclaimPolicy": "Delete",
    }
    if s.cephfs_client_type == "fuse":  # ceph-csi's mounter per volume: ceph-fuse, not the kernel client
        doc["parameters"]["mounter"] = "fuse"
    return mark(doc, s.run_id, "sharedfs")


def object_store(s):
    doc = {
        "apiVersion": CEPH_API, "kind": "CephObjectStore", "metadata": _meta(s.object_store, s.namespace),
        "spec": {
            "metadataPool": {"failureDomain": _failure_domain(s), "replicated": _replicated(s)},
            "dataPool": {"failureDomain": _failure_domain(s), "replicated": _replicated(s)},
            "preservePoolsOnDelete": False,
            "gateway": {"port": 80, "instances": 1},
        },
    }
    return mark(doc, s.run_id, "object")


def object_user(s, name):
    """An S3 user (CephObjectStoreUser); Rook writes its keys to the Secret object_user_secret()."""
    doc = {"apiVersion": CEPH_API, "kind": "CephObjectStoreUser", "metadata": _meta(name, s.namespace),
           "spec": {"store": s.object_store, "displayName": f"conformance {name}"}}
    return mark(doc, s.run_id, "object")


def object_user_secret(s, name):
    return f"rook-ceph-object-user-{s.object_store}-{name}"


def bucket_storage_class(s):
    doc = {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": _meta(s.storage_class("bucket")),
        "provisioner": f"{s.operator_namespace}.ceph.rook.io/bucket", "reclaimPolicy": "Delete",
        "parameters": {"objectStoreName": s.object_store, "objectStoreNamespace": s.namespace},
    }
    return mark(doc, s.run_id, "object")


def bucket_claim(s, role):
    """An ObjectBucketClaim: Rook answers with a bucket, a ConfigMap (BUCKET_NAME, BUCKET_HOST,
    BUCKET_PORT) and a Secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) named like the claim."""
    doc = {"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
           "metadata": _meta(f"{s.name}-{role}", s.apps_namespace),
           "spec": {"generateBucketName": f"{s.name}-{role}", "storageClassName": s.storage_class("bucket")}}
    return mark(doc, s.run_id, "object")


BUCKET_CLAIM_ROLES = ("user", "other")


def rgw_external_service(s):
    """The object store's gateway from outside the cluster: a NodePort in front of Rook's RGW pods."""
    port = {"name": "rgw", "port": 80, "protocol": "TCP", "targetPort": 8080}
    if s.s3_node_port:
        port["nodePort"] = s.s3_node_port
    selector = {"app": "rook-ceph-rgw", "rook_cluster": s.namespace, "rook_object_store": s.object_store}
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": _meta(f"{s.object_store}-external", s.namespace),
           "spec": {"type": "NodePort", "selector": selector, "ports": [port], "sessionAffinity": "None"}}
    return mark(doc, s.run_id, "object")


def storage(s):
    """Every storage resource of the run, in the order they are applied."""
    # Rook 1.12's subvolume group takes its Ceph name from metadata.name (no spec.name): a run-named
    # group would not be the `csi` group ceph-csi uses, and ceph-csi creates that one itself.
    group = [subvolume_group(s)] if s.rook_release >= (1, 18) else []
    return [block_pool(s), block_storage_class(s), filesystem(s), *group, filesystem_storage_class(s),
            object_store(s), bucket_storage_class(s), rgw_external_service(s)]
