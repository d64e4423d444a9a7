"""Rook's own install manifests (crds, common, csi-operator where the release has it, operator,
toolbox) from the release, patched as objects: loop devices allowed, the CephFS client type, the
operator's image and pull policy where asked, the toolbox run-named."""

import copy

from .labels import mark

# Settings of rook-ceph-operator-config the suite needs: loop devices as OSDs (they are still
# used only when listed by name in the CephCluster), and no discovery daemon scanning the nodes.
OPERATOR_CONFIG = {
    "ROOK_CEPH_ALLOW_LOOP_DEVICES": "true",
    "ROOK_ENABLE_DISCOVERY_DAEMON": "false",
    "ROOK_LOG_LEVEL": "INFO",
}


# The CSI drivers' cephFsClientType for --cephfs-client: Rook v1.20.6's CRDs allow only "kernel" and
# "autodetect" (ceph-csi probes for ceph-fuse); FUSE itself is asked for by the StorageClass's `mounter`.
DRIVER_CLIENT_TYPE = {"kernel": "kernel", "fuse": "autodetect"}
# Before the CSI operator (Rook < 1.18) the operator's ConfigMap says it: with the kernel client forced
# off, ceph-csi mounts with ceph-fuse where the StorageClass asks for `mounter: fuse`.
FORCE_KERNEL_CLIENT = {"kernel": "true", "fuse": "false"}


def operator_documents(release, s):
    """Rook's install, in the release's order, each document marked with the run's labels."""
    if s.operator_namespace != "rook-ceph":
        # Rook's manifests name their namespace in many places (bindings, webhooks, CSI drivers);
        # installing elsewhere is Rook's Helm chart's job, not a patch of ours.
        raise ValueError("the suite installs Rook in the namespace rook-ceph, as Rook's manifests do")
    if not s.csi and "csi-operator.yaml" in release.operator_files:
        raise ValueError(f"Rook {release.version} deploys ceph-csi through csi-operator.yaml: the suite turns "
                         "CSI off only on releases before 1.18")
    docs = []
    for name in release.operator_files:
        for doc in release.documents(name):
            docs.append(mark(_patched(doc, s), s.run_id, "operator"))
    return docs


def _patched(doc, s):
    doc = copy.deepcopy(doc)
    kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
    if kind == "ConfigMap" and name == "rook-ceph-operator-config":
        doc["data"].update(OPERATOR_CONFIG)
        if "CSI_FORCE_CEPHFS_KERNEL_CLIENT" in doc["data"]:  # Rook < 1.18: CSI settings are the operator's
            doc["data"]["CSI_FORCE_CEPHFS_KERNEL_CLIENT"] = FORCE_KERNEL_CLIENT[s.cephfs_client_type]
            if not s.csi:
                doc["data"].update(ROOK_CSI_ENABLE_RBD="false", ROOK_CSI_ENABLE_CEPHFS="false",
                                   ROOK_CSI_ENABLE_NFS="false")
    elif kind == "Deployment" and name == "rook-ceph-operator":
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        if s.operator_image:
            container["image"] = s.operator_image
        if s.image_pull_policy:
            container["imagePullPolicy"] = s.image_pull_policy
    elif kind == "Driver" and name.endswith(".cephfs.csi.ceph.com"):
        doc["spec"]["cephFsClientType"] = DRIVER_CLIENT_TYPE[s.cephfs_client_type]
    elif kind == "OperatorConfig":
        doc["spec"]["driverSpecDefaults"]["cephFsClientType"] = DRIVER_CLIENT_TYPE[s.cephfs_client_type]
    return doc


def toolbox(release, s):
    """Rook's toolbox Deployment, run-named (beside any toolbox an existing Rook has), with the run's
    Ceph image. It runs with the cluster's admin identity: every Ceph tool call goes through it."""
    (doc,) = [d for d in release.documents("toolbox.yaml") if d.get("kind") == "Deployment"]
    doc = copy.deepcopy(doc)
    doc["metadata"]["name"] = s.toolbox
    doc["metadata"]["namespace"] = s.namespace
    doc["metadata"].setdefault("labels", {})["app"] = s.toolbox
    doc["spec"]["selector"] = {"matchLabels": {"app": s.toolbox}}
    pod = doc["spec"]["template"]
    pod["metadata"]["labels"]["app"] = s.toolbox
    (container,) = pod["spec"]["containers"]
    container["image"] = s.ceph_image
    if s.image_pull_policy:
        container["imagePullPolicy"] = s.image_pull_policy
    return mark(doc, s.run_id, "tools")
