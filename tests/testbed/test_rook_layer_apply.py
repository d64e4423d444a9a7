"""The Rook targets' own manifests, applied by the Rook layer's own client (targets/rook/kube.py and
RookLayer), against the test bed's real kube-apiserver with Rook v1.20.6's CRDs installed.

For several option sets (as tests/unit/rook builds them) every generated object is accepted and read
back as applied: nothing pruned, nothing changed. The layer's teardown then removes by the run's
label exactly what the run added, and leaves an unlabelled object and another run's object alone.
A deliberately broken generated object is refused, in one line naming the field.
"""

import base64
import copy
import time

import pytest

from ceph_conformance.errors import SetupError
from ceph_conformance.run import new_run_id
from ceph_conformance.targets.rook import cluster, readiness
from ceph_conformance.targets.rook import release as rook_release
from ceph_conformance.targets.rook.kube import Kube
from ceph_conformance.targets.rook.labels import PART_LABEL, RUN_LABEL, selector
from ceph_conformance.targets.rook.layer import RookLayer
from ceph_conformance.targets.rook.settings import RookSettings
from ceph_conformance.waits import wait_for

PASSWORDS = {"mysql": "mysql-pass-for-testbed-0123", "minio": "minio-pass-for-testbed-0123"}
EXISTING_ROOK_NS = f"cconf-existing-{new_run_id()}"  # stands in for a Rook namespace that is already there


def _three_nodes(run_id):
    return RookSettings(run_id, nodes={"cconf-worker": ["/dev/loop20"], "cconf-worker2": ["/dev/loop21"],
                                       "cconf-worker3": ["/dev/loop22"]})


# The option sets of tests/unit/rook (kind default, a one-node laptop, a bigger cluster with mutes and
# its own Ceph image, a run inside an existing Rook), each under a run id of its own.
OPTION_SETS = {
    "kind-default": (_three_nodes, True),
    "one-node": (lambda r: RookSettings(r, nodes={"laptop": ["/dev/loop20", "/dev/loop21"]}, mon_count=1,
                                        pool_size=1, cephfs_client_type="fuse", s3_node_port=30080), True),
    "four-by-two": (lambda r: RookSettings(r, nodes={f"k8s-{i}": ["/dev/loop1", "/dev/loop2"] for i in range(4)},
                                           mgr_count=2, mute_health=["MON_DISK_LOW"], fs_clients=3,
                                           ceph_image="quay.io/ceph/ceph:v19.2.3", block_size_gib=8), True),
    "existing-rook": (lambda r: RookSettings(r, nodes={"n1": ["/dev/sdb"]}, namespace=EXISTING_ROOK_NS), False),
}


@pytest.fixture(scope="module")
def kube(kube_api, testbed):
    return Kube(kube_api, discovery_cache=str(testbed.dir / "rook-layer-discovery.json"))


@pytest.fixture(scope="module")
def release():
    return rook_release.Release.for_options(rook_release.DEFAULT_VERSION)


@pytest.fixture(scope="module")
def existing_rook_namespace(kube):
    """The namespace an existing Rook would live in: not the run's (unlabelled), removed after."""
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": EXISTING_ROOK_NS}})
    yield EXISTING_ROOK_NS
    kube.delete("v1", "Namespace", EXISTING_ROOK_NS)


@pytest.fixture(scope="module")
def applied(kube, release, bed_nodes, existing_rook_namespace):
    """{option set: (settings, layer, documents applied)}: each set's phases applied through the layer."""
    done = {}
    for name, (make, deploy_rook) in OPTION_SETS.items():
        s = make(new_run_id())
        layer = RookLayer(kube, release, s, deploy_rook=deploy_rook, timeout=180, progress=lambda m: None,
                          interval=0.5)
        docs = []
        for phase in layer.phases(PASSWORDS):
            layer._apply(phase.documents)  # the layer's own apply: CRDs first, their wait, then the rest
            docs += phase.documents
        # Read back at once: the next set re-applies Rook's install (the same objects) with its own labels.
        stored = [kube.get(d["apiVersion"], d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
                  for d in docs]
        done[name] = (s, layer, docs, stored)
    return done


EMPTY = ("", None, [], {})  # Kubernetes omits empty values when it serialises (omitempty): not a loss


def _mismatch(want, got, path=""):
    """The first place where got (as stored) lacks or changes what want (as applied) says, or None.
    What the server adds (defaults, admission's items in named lists) is allowed; nothing applied may go."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{path}: applied a mapping, stored {got!r}"
        for key, value in want.items():
            if key not in got or got[key] is None:
                if value in EMPTY:
                    continue
                return f"{path}.{key}: applied {value!r}, not stored"
            if (found := _mismatch(value, got[key], f"{path}.{key}")) is not None:
                return found
        return None
    if isinstance(want, list):
        if not isinstance(got, list):
            return f"{path}: applied {want!r}, stored {got!r}"
        if want and all(isinstance(w, dict) and "name" in w for w in want):
            # volumes, volumeMounts, containers, env: matched by name, in the applied order (the
            # service account's token volume is added by admission)
            by_name = [g for g in got if isinstance(g, dict) and g.get("name") in {w["name"] for w in want}]
            if [g["name"] for g in by_name] != [w["name"] for w in want]:
                return f"{path}: applied {[w['name'] for w in want]}, stored {[g.get('name') for g in got]}"
            got = by_name
        elif len(want) != len(got):
            return f"{path}: applied {want!r}, stored {got!r}"
        pairs = enumerate(zip(want, got, strict=True))
        return next((m for i, (w, g) in pairs if (m := _mismatch(w, g, f"{path}[{i}]"))), None)
    return None if want == got else f"{path}: applied {want!r}, stored {got!r}"


def _as_stored(doc):
    """What the API server keeps of an applied document: a Secret's stringData is stored as data."""
    doc = copy.deepcopy(doc)
    if doc["kind"] == "Secret" and "stringData" in doc:
        data = doc.setdefault("data", {})
        data.update({k: base64.b64encode(v.encode()).decode() for k, v in doc.pop("stringData").items()})
    return doc


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_every_generated_object_is_stored_as_applied(kube, applied, option_set):
    s, _, docs, read_back = applied[option_set]
    kinds = set()
    for doc, stored in zip(docs, read_back, strict=True):
        meta = doc["metadata"]
        assert stored is not None, f"{doc['kind']} {meta['name']}: applied, not stored"
        want = _as_stored(doc)
        for key in [k for k in want if k not in ("apiVersion", "kind", "metadata")]:
            found = _mismatch(want[key], stored.get(key), key)
            assert found is None, f"{doc['kind']} {meta.get('namespace')}/{meta['name']}: {found}"
        for key in ("labels", "annotations"):
            found = _mismatch(meta.get(key) or {}, stored["metadata"].get(key) or {}, f"metadata.{key}")
            assert found is None, f"{doc['kind']} {meta['name']}: {found}"
        kinds.add(doc["kind"])
    assert {"CephBlockPool", "CephFilesystem", "CephObjectStore", "ObjectBucketClaim", "StorageClass",
            "Deployment", "PersistentVolumeClaim", "Secret"} <= kinds, kinds
    if OPTION_SETS[option_set][1]:  # Rook installed by the run: its CRDs, operator and the CephCluster too
        assert {"CustomResourceDefinition", "CephCluster", "ClusterRole"} <= kinds, kinds
        stored = kube.get("ceph.rook.io/v1", "CephCluster", s.cluster_name, s.namespace)
        assert stored["spec"]["storage"]["useAllDevices"] is False
        assert [d["name"] for n in stored["spec"]["storage"]["nodes"] for d in n["devices"]] == \
            [d for _, devs in sorted(s.nodes.items()) for d in devs]
    assert len(docs) >= 20, len(docs)


def test_a_broken_generated_object_is_refused_naming_the_field(kube, applied):
    s, layer, _, _ = applied["kind-default"]
    typo = copy.deepcopy(cluster.ceph_cluster(s))
    typo["metadata"]["name"] += "-typo"
    typo["spec"]["storage"]["useAllDevicez"] = False  # misspelt: strict validation refuses, never prunes
    too_many = copy.deepcopy(cluster.ceph_cluster(s))
    too_many["metadata"]["name"] += "-mons"
    too_many["spec"]["mon"]["count"] = 10  # the CRD's schema allows at most 9
    as_word = copy.deepcopy(next(d for d in cluster.storage(s) if d["kind"] == "CephBlockPool"))
    as_word["metadata"]["name"] += "-word"
    as_word["spec"]["replicated"]["size"] = "two"
    for doc, field in ((typo, "useAllDevicez"), (too_many, "spec.mon.count"), (as_word, "spec.replicated.size")):
        with pytest.raises(SetupError) as info:
            layer._apply([doc])
        said = str(info.value)
        assert field in said, said
        assert said.startswith(f"{doc['kind']} {s.namespace}/{doc['metadata']['name']} rejected by the API server")
        assert "\n" not in said, said
        assert kube.get(doc["apiVersion"], doc["kind"], doc["metadata"]["name"], s.namespace) is None


def _others(kube, s):
    """Objects beside the run's that its teardown must leave: unlabelled, and another run's."""
    other_run = new_run_id()
    pool = {"apiVersion": "ceph.rook.io/v1", "kind": "CephBlockPool",
            "metadata": {"name": f"{s.name}-not-the-runs", "namespace": s.namespace},
            "spec": {"failureDomain": "host", "replicated": {"size": 2}}}
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": f"{s.name}-not-the-runs"},
          "provisioner": "example.com/none"}
    # Another run's toolbox-like Service, with the part label teardown selects on.
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": f"{s.name}-other-run", "namespace": s.namespace,
                        "labels": {RUN_LABEL: other_run, PART_LABEL: "tools"}},
           "spec": {"ports": [{"port": 80}], "selector": {"app": "none"}}}
    for doc in (pool, sc, svc):
        kube.apply(doc)
    return [pool, sc, svc]


def _run_objects(kube, docs, s, parts):
    """(kind, name) of the run's documents of these parts that still exist."""
    left = []
    for doc in docs:
        meta = doc["metadata"]
        if meta["labels"][PART_LABEL] in parts and kube.get(doc["apiVersion"], doc["kind"], meta["name"],
                                                           meta.get("namespace")) is not None:
            left.append((doc["kind"], meta["name"]))
    return left


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_teardown_removes_exactly_the_runs_objects(kube, applied, option_set):
    s, layer, docs, _ = applied[option_set]
    others = _others(kube, s)
    added = {"tools", "block", "sharedfs", "object", "apps"}  # what the run adds to a Rook cluster
    assert len(_run_objects(kube, docs, s, added)) >= 15

    # The layer's teardown of the run's additions (with --rook-namespace, all of it; Rook's own
    # removal after a --deploy-rook run deletes its CRDs, which other tests of this session share).
    teardown = RookLayer(kube, layer.release, s, deploy_rook=False, timeout=180, progress=lambda m: None,
                         interval=0.5)
    t0 = time.monotonic()
    problems = teardown.tear_down()
    print(f"teardown of {option_set}: {time.monotonic() - t0:.1f}s")
    assert problems == []

    assert _run_objects(kube, docs, s, added) == []
    for doc in others:
        meta = doc["metadata"]
        assert kube.get(doc["apiVersion"], doc["kind"], meta["name"], meta.get("namespace")) is not None, \
            f"teardown removed {doc['kind']} {meta['name']}, which is not the run's"
        kube.delete(doc["apiVersion"], doc["kind"], meta["name"], meta.get("namespace"))
    if OPTION_SETS[option_set][1]:  # Rook's install and the CephCluster stay until Rook itself is removed
        assert ("CephCluster", s.cluster_name) in _run_objects(kube, docs, s, {"cluster"})
        kube.delete("ceph.rook.io/v1", "CephCluster", s.cluster_name, s.namespace)
    # The run's pods (toolbox, apps) go with their Deployments and namespace; Rook's operator (part
    # "operator") stays with Rook's install.
    added_pods = f"{selector(s.run_id)},{PART_LABEL} in ({','.join(sorted(added))})"

    def pods_gone():
        pods = kube.list("v1", "Pod", None, added_pods)
        return not pods, readiness.pods_state(pods)[1]

    wait_for(pods_gone, what="the run's pods to be gone", timeout=60, interval=0.5)
