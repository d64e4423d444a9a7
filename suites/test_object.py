"""Object storage: S3 through RGW, as applications use it, with a temporary user per run."""

import io
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from boto3.s3.transfer import TransferConfig

from ceph_conformance.clients.s3 import S3Credentials, expect_error, make_client
from ceph_conformance.clients.web import http_get
from ceph_conformance.payload import MiB, Timer, difference, sha256

pytestmark = pytest.mark.object

SIZES = {"0B": 0, "1KiB": 1024, "4MiB": 4 * MiB}


@pytest.mark.smoke
def test_bucket_create_list_delete(s3):
    """A bucket is created, listed, headed and deleted, and is then gone (404)."""
    bucket = s3.new_bucket()
    listed = [b["Name"] for b in s3.client.list_buckets()["Buckets"]]
    assert bucket in listed, f"new bucket {bucket} missing from ListBuckets: {listed}"
    s3.client.head_bucket(Bucket=bucket)
    s3.client.delete_bucket(Bucket=bucket)
    listed = [b["Name"] for b in s3.client.list_buckets()["Buckets"]]
    assert bucket not in listed, f"deleted bucket {bucket} still listed"
    expect_error("404", 404, s3.client.head_bucket, Bucket=bucket)


@pytest.mark.smoke
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_put_get_roundtrip(s3, size, record_metric):
    """Objects come back byte-identical (SHA-256) with the right length."""
    bucket = s3.new_bucket()
    data = os.urandom(size)
    with Timer() as put:
        s3.client.put_object(Bucket=bucket, Key="obj", Body=data)
    with Timer() as get:
        got = s3.client.get_object(Bucket=bucket, Key="obj")
        body = got["Body"].read()
    assert got["ContentLength"] == size, f"GET says {got['ContentLength']} bytes, PUT sent {size}"
    assert sha256(body) == sha256(data), f"{size}-byte object came back different ({len(body)} bytes)"
    if size >= MiB:
        record_metric(f"s3_put_{size // MiB}MiB", put.mb_per_s(size), "MB/s")
        record_metric(f"s3_get_{size // MiB}MiB", get.mb_per_s(size), "MB/s")


def test_put_get_roundtrip_multipart(s3, record_metric):
    """A 64 MiB object in 8 parts (ETag -8) comes back identical; PUT and GET throughput."""
    bucket = s3.new_bucket()
    size, part = 64 * MiB, 8 * MiB
    data = os.urandom(size)
    config = TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=4)
    with Timer() as put:
        s3.client.upload_fileobj(io.BytesIO(data), bucket, "big", Config=config)
    head = s3.client.head_object(Bucket=bucket, Key="big")
    parts = size // part
    assert head["ETag"].strip('"').endswith(f"-{parts}"), f"not a {parts}-part upload: ETag {head['ETag']}"
    assert head["ContentLength"] == size
    sink = io.BytesIO()
    with Timer() as get:
        s3.client.download_fileobj(bucket, "big", sink, Config=config)
    assert sha256(sink.getvalue()) == sha256(data), "64 MiB multipart object came back different"
    record_metric("s3_put_64MiB_multipart", put.mb_per_s(size), "MB/s")
    record_metric("s3_get_64MiB", get.mb_per_s(size), "MB/s")


def test_ranged_get(s3):
    """Ranges (start-end, suffix, open end) give 206 with the right bytes and Content-Range."""
    bucket = s3.new_bucket()
    data = os.urandom(MiB)
    s3.client.put_object(Bucket=bucket, Key="obj", Body=data)
    cases = {"bytes=0-99": data[0:100], "bytes=1000-1999": data[1000:2000], "bytes=-500": data[-500:],
             f"bytes={MiB - 10}-": data[-10:]}
    for rng, expected in cases.items():
        got = s3.client.get_object(Bucket=bucket, Key="obj", Range=rng)
        body = got["Body"].read()
        status = got["ResponseMetadata"]["HTTPStatusCode"]
        assert status == 206, f"Range {rng}: HTTP {status}, expected 206 Partial Content"
        wrong = difference(body, expected)
        assert not wrong, f"Range {rng}: {wrong}"
        assert got["ContentRange"].endswith(f"/{MiB}"), f"Range {rng}: Content-Range {got['ContentRange']}"
    expect_error("InvalidRange", 416, s3.client.get_object, Bucket=bucket, Key="obj", Range=f"bytes={2 * MiB}-")


def test_list_past_1000_keys_with_prefix_and_delimiter(s3):
    """1010 keys page at 1000 (v2 and v1) in order; prefix and delimiter give the right CommonPrefixes."""
    bucket = s3.new_bucket()
    many = [f"many/k{i:04d}" for i in range(1010)]
    nested = [f"dirs/d{i}/file" for i in range(5)] + ["dirs/top0", "dirs/top1", "other"]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.client.put_object(Bucket=bucket, Key=k, Body=k.encode()), many + nested))

    first = s3.client.list_objects_v2(Bucket=bucket, Prefix="many/")
    assert first["IsTruncated"] and first["KeyCount"] == 1000, (
        f"first page of 1010 keys: IsTruncated={first['IsTruncated']} KeyCount={first['KeyCount']}")
    listed = [o["Key"] for page in s3.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/")
              for o in page.get("Contents", [])]
    assert listed == many, f"ListObjectsV2 over pages returned {len(listed)} keys, expected {len(many)} in order"
    listed_v1 = [o["Key"] for page in s3.client.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="many/")
                 for o in page.get("Contents", [])]
    assert listed_v1 == many, f"ListObjects (v1) over pages returned {len(listed_v1)} keys"

    tree = s3.client.list_objects_v2(Bucket=bucket, Prefix="dirs/", Delimiter="/")
    prefixes = [p["Prefix"] for p in tree.get("CommonPrefixes", [])]
    files = [o["Key"] for o in tree.get("Contents", [])]
    assert prefixes == [f"dirs/d{i}/" for i in range(5)], f"CommonPrefixes {prefixes}"
    assert files == ["dirs/top0", "dirs/top1"], f"Contents under dirs/ with delimiter: {files}"


def test_user_metadata_and_content_type(s3):
    """User metadata and Content-Type survive PUT, HEAD and GET."""
    bucket = s3.new_bucket()
    meta = {"owner": "conformance", "purpose": "metadata-roundtrip"}
    s3.client.put_object(Bucket=bucket, Key="doc.json", Body=b"{}", Metadata=meta,
                         ContentType="application/x-conformance+json")
    head = s3.client.head_object(Bucket=bucket, Key="doc.json")
    assert head["Metadata"] == meta, f"user metadata came back as {head['Metadata']}"
    assert head["ContentType"] == "application/x-conformance+json", f"Content-Type {head['ContentType']}"
    got = s3.client.get_object(Bucket=bucket, Key="doc.json")
    assert got["Metadata"] == meta and got["ContentType"] == "application/x-conformance+json"


def test_overwrite_replaces_object(s3):
    """An overwrite replaces data and length, leaving one key."""
    bucket = s3.new_bucket()
    s3.client.put_object(Bucket=bucket, Key="k", Body=b"first version, longer")
    s3.client.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.client.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second", "GET after overwrite returned the old data"
    assert got["ContentLength"] == 6
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["k"], f"overwrite left {keys}"


def test_delete_semantics(s3):
    """Deleting a non-empty bucket is 409; delete is 204 and idempotent; multi-delete works."""
    bucket = s3.new_bucket()
    for key in ("a", "b", "c", "d"):
        s3.client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    expect_error("BucketNotEmpty", 409, s3.client.delete_bucket, Bucket=bucket)
    resp = s3.client.delete_object(Bucket=bucket, Key="a")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchKey", 404, s3.client.get_object, Bucket=bucket, Key="a")
    again = s3.client.delete_object(Bucket=bucket, Key="a")
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204, "deleting a missing key is not idempotent"
    batch = s3.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("b", "c", "missing")]})
    assert not batch.get("Errors"), f"multi-object delete reported errors: {batch['Errors']}"
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["d"], f"after deletes the bucket holds {keys}"
    expect_error("NoSuchBucket", 404, s3.client.get_object, Bucket=bucket + "-absent", Key="d")


def test_presigned_get_with_plain_http(s3, op_timeout):
    """A presigned GET works from plain HTTP; a tampered signature and an unsigned GET get 403."""
    bucket = s3.new_bucket()
    data = os.urandom(64 * 1024)
    s3.client.put_object(Bucket=bucket, Key="shared", Body=data)
    url = s3.client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared"}, ExpiresIn=300)
    status, body = http_get(url, timeout=op_timeout)
    assert status == 200, f"a presigned GET got HTTP {status}"
    wrong = difference(body, data)
    assert not wrong, f"a presigned GET returned other data: {wrong}"
    status, _ = http_get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=op_timeout)
    assert status == 403, f"a presigned URL with a broken signature got HTTP {status}, expected 403"
    status, _ = http_get(url.split("?", 1)[0], timeout=op_timeout)
    assert status == 403, f"an anonymous GET of a private object got HTTP {status}, expected 403"


def test_wrong_secret_is_rejected(s3_endpoint, s3_user, op_timeout):
    """A wrong secret gets 403 SignatureDoesNotMatch."""
    forged = S3Credentials(s3_user.uid, s3_user.access_key, "x" * 40)
    client = make_client(s3_endpoint, forged, max_attempts=1, op_timeout=op_timeout)
    expect_error("SignatureDoesNotMatch", 403, client.list_buckets)


def test_second_user_cannot_read_first_users_bucket(s3, s3_other):
    """Another user gets 403 AccessDenied on read, list and write."""
    bucket = s3.new_bucket()
    s3.client.put_object(Bucket=bucket, Key="private", Body=b"owner only")
    expect_error("AccessDenied", 403, s3_other.client.get_object, Bucket=bucket, Key="private")
    expect_error("AccessDenied", 403, s3_other.client.list_objects_v2, Bucket=bucket)
    expect_error("AccessDenied", 403, s3_other.client.put_object, Bucket=bucket, Key="intruder", Body=b"x")
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["private"], f"the other user changed the bucket: {keys}"
