"""Object storage behind a container registry: the CNCF distribution registry (Harbor's storage layer)
with its S3 storage driver on a bucket of the run, images built with buildah and pulled through the
registry's HTTP API. What a registry needs from S3: blobs written in parts come back bit for bit,
listings find them, and deletes remove exactly what garbage collection asks for."""

import gzip
import io
import json
import tarfile
from dataclasses import dataclass

import pytest

from ceph_conformance.clients.buildah import Image
from ceph_conformance.clients.registry import blob_key
from ceph_conformance.payload import MiB, Timer, random_bytes, sha256

pytestmark = pytest.mark.object

KiB = 1024
BIG_LAYER = 24 * MiB  # several of the registry's 5 MiB S3 chunks: a multipart upload


@dataclass
class Pushed:
    repository: str
    tag: str
    digest: str
    image: Image
    push_seconds: float


def _descriptors(manifest):
    """The manifest's config and layer descriptors, config first."""
    return [manifest["config"], *manifest["layers"]]


def _layer_files(blob):
    """{path: sha256} of the regular files in a gzip'd layer tar, and the sha256 of the tar (its diff id)."""
    tar_bytes = gzip.decompress(blob)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        files = {"/" + m.name.lstrip("./"): sha256(tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()}
    return files, "sha256:" + sha256(tar_bytes)


def _pull_and_verify(registry, repository, digest, image):
    """Pull repository@digest through the API and verify every byte; the bytes pulled. A failed
    assertion names the blob (or the manifest) and what came back instead."""
    ref = f"{repository}@{digest}"
    raw, manifest, said = registry.api.manifest(repository, digest)
    got = "sha256:" + sha256(raw)
    assert got == digest, f"manifest {ref} came back with digest {got} ({len(raw)} bytes)"
    assert said == digest, f"manifest {ref}: the registry says its digest is {said}"
    layers = manifest["layers"]
    assert len(layers) == len(image.layers), f"manifest {ref} lists {len(layers)} layers, the image has " \
                                             f"{len(image.layers)}"
    config_raw, config_digest = registry.api.blob(repository, manifest["config"]["digest"])
    assert config_digest == manifest["config"]["digest"], (
        f"config blob {manifest['config']['digest']} of {ref} came back different: {len(config_raw)} bytes with "
        f"digest {config_digest}")
    diff_ids = json.loads(config_raw)["rootfs"]["diff_ids"]
    pulled = len(raw) + len(config_raw)
    for i, (desc, files) in enumerate(zip(layers, image.layers, strict=True), 1):
        blob, got = registry.api.blob(repository, desc["digest"])
        pulled += len(blob)
        assert got == desc["digest"] and len(blob) == desc["size"], (
            f"layer {i} of {ref}: blob {desc['digest']} came back different: {len(blob)} bytes with digest {got} "
            f"(the manifest says {desc['size']} bytes)")
        in_layer, diff_id = _layer_files(blob)
        assert diff_id == diff_ids[i - 1], f"layer {i} of {ref}: uncompressed digest {diff_id}, config says " \
                                           f"{diff_ids[i - 1]}"
        expected = {path: sha256(data) for path, data in files.items()}
        assert in_layer == expected, f"layer {i} of {ref} ({desc['digest']}) holds other files than were built: " \
                                     f"{sorted(in_layer)} vs {sorted(expected)}"
    return manifest, pulled


def _missing_from_bucket(registry, descriptors):
    stored = registry.stored_blobs()
    return [f"{d['digest']} ({d['size']} bytes; bucket has {stored.get(d['digest'], 'nothing')} at "
            f"{blob_key(d['digest'])})" for d in descriptors if stored.get(d["digest"]) != d["size"]]


@pytest.fixture(scope="module")
def pushed(registry, image_builder, namer):
    """An image of three layers of random files (one of 24 MiB) built FROM scratch and pushed as
    <run-prefixed repository>:v1."""
    layers = [{"/base/a.bin": random_bytes(256 * KiB)},
              {"/big/b.bin": random_bytes(BIG_LAYER)},
              {"/top/c.bin": random_bytes(64 * KiB), "/top/d.txt": random_bytes(1000)}]
    image = image_builder.build(namer("image"), layers)
    repository = namer("img")
    with Timer() as push:
        digest = image_builder.push(image, f"{registry.host}/{repository}:v1")
    return Pushed(repository, "v1", digest, image, push.seconds)


def test_registry_push_pull_by_digest_keeps_every_blob_intact(registry, pushed, record_metric):
    """An image pushed to a registry stored in a bucket pulls back by digest, every blob intact."""
    repo = pushed.repository
    with Timer() as pull:
        manifest, pulled = _pull_and_verify(registry, repo, pushed.digest, pushed.image)
    _, _, by_tag = registry.api.manifest(repo, pushed.tag)
    assert by_tag == pushed.digest, f"{repo}:{pushed.tag} resolves to {by_tag}, the push made {pushed.digest}"
    missing = _missing_from_bucket(registry, _descriptors(manifest))
    assert not missing, f"blobs of {repo}@{pushed.digest} missing from bucket {registry.bucket}: {missing}"
    # The 24 MiB layer went into the bucket in the registry's S3 parts (a multipart copy into place).
    big = max(manifest["layers"], key=lambda d: d["size"])
    parts = -(-big["size"] // registry.chunk_bytes)
    etag = registry.stored_etag(big["digest"])
    assert big["size"] > registry.multipart_above and etag.endswith(f"-{parts}"), (
        f"blob {big['digest']} ({big['size']} bytes) is not stored as {parts} parts of {registry.chunk_bytes} bytes: "
        f"ETag {etag}")
    pushed_bytes = sum(d["size"] for d in _descriptors(manifest))
    record_metric("registry_push", pushed_bytes / 1e6 / pushed.push_seconds, "MB/s")
    record_metric("registry_pull", pulled / 1e6 / pull.seconds, "MB/s")


def test_registry_garbage_collection_removes_only_unreferenced_blobs(registry, image_builder, namer):
    """Garbage collection removes a deleted image's own blobs and keeps every blob still referenced."""
    # Two images of one repository that share their bottom layer: a (three layers) and b (two).
    shared = image_builder.build(namer("shared"), [{"/shared/s.bin": random_bytes(512 * KiB)}])
    a = image_builder.build(namer("gc-a"), [{"/a/one.bin": random_bytes(MiB)}, {"/a/two.bin": random_bytes(128 * KiB)}],
                            base=shared)
    b = image_builder.build(namer("gc-b"), [{"/b/one.bin": random_bytes(256 * KiB)}], base=shared)
    repo = namer("gc")
    digest_a = image_builder.push(a, f"{registry.host}/{repo}:a")
    digest_b = image_builder.push(b, f"{registry.host}/{repo}:b")
    manifest_a, _ = _pull_and_verify(registry, repo, digest_a, a)
    manifest_b, _ = _pull_and_verify(registry, repo, digest_b, b)
    layers_a = {d["digest"] for d in manifest_a["layers"]}
    layers_b = {d["digest"] for d in manifest_b["layers"]}
    assert len(layers_a & layers_b) == 1, f"{repo}:a and :b should share exactly their bottom layer: " \
                                         f"{sorted(layers_a & layers_b)}"
    # The manifests are blobs too: a's goes with a, b's stays.
    blobs_a = {d["digest"] for d in _descriptors(manifest_a)} | {digest_a}
    blobs_b = {d["digest"] for d in _descriptors(manifest_b)} | {digest_b}
    stored = registry.stored_blobs()
    assert blobs_a | blobs_b <= set(stored), f"blobs of {repo} missing from the bucket before garbage collection: " \
                                             f"{sorted((blobs_a | blobs_b) - set(stored))}"

    assert registry.api.delete_manifest(repo, digest_a) == 202
    assert registry.api.manifest_status(repo, digest_a) == 404, f"{repo}@{digest_a} still served after DELETE"
    assert registry.api.tags(repo) == ["b"], f"tags of {repo} after deleting :a's manifest: {registry.api.tags(repo)}"
    said = registry.garbage_collect()

    stored = registry.stored_blobs()
    left = sorted((blobs_a - blobs_b) & set(stored))
    assert not left, (f"garbage collection left {len(left)} blob(s) only the deleted {repo}@{digest_a} used in bucket "
                      f"{registry.bucket}: {left}; garbage-collect said: {said.strip().splitlines()[-3:]}")
    lost = sorted(blobs_b - set(stored))
    assert not lost, (f"garbage collection removed {len(lost)} blob(s) {repo}:b still uses from bucket "
                      f"{registry.bucket}: {lost} (shared layer: {sorted(layers_a & layers_b)})")
    # What is left still pulls whole.
    _pull_and_verify(registry, repo, digest_b, b)
