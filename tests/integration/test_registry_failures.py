"""The registry checks catch storage that breaks a registry behind its back.

The suite runs its registry checks against the live cluster (as an existing cluster); just before
one check runs, this test changes the registry's bucket on the real RGW with boto3, as the run's S3
user, and asserts that exactly that check fails, saying what is wrong, while the other passes."""

import json

import boto3
from botocore.config import Config

from .harness import REGISTRY_MODULE, break_during

PUSH_PULL = "test_registry_push_pull_by_digest_keeps_every_blob_intact"
GC = "test_registry_garbage_collection_removes_only_unreferenced_blobs"
BLOBS = "docker/registry/v2/blobs/sha256/"


def _run_bucket(cluster, run_dir):
    """(bucket, boto3 client as its owner) of the one bucket the suite run made (the registry's)."""
    prefix = f"cconf-{run_dir.name}-"
    buckets = [b for b in cluster.client().tool_json("radosgw-admin", "bucket", "list") if b.startswith(prefix)]
    assert len(buckets) == 1, f"expected the registry's bucket only, the run has {buckets}"
    owner = cluster.client().tool_json("radosgw-admin", "bucket", "stats", "--bucket", buckets[0])["owner"]
    keys = cluster.client().tool_json("radosgw-admin", "user", "info", "--uid", owner)["keys"][0]
    s3 = boto3.client("s3", endpoint_url=cluster.rgw_endpoint, aws_access_key_id=keys["access_key"],
                      aws_secret_access_key=keys["secret_key"], region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                                    response_checksum_validation="when_required"))
    return buckets[0], s3


def _outcomes(run):
    return {c["nodeid"].split("::")[-1]: c for c in run.checks("object")}


def test_a_layer_corrupted_in_the_bucket_fails_the_pull_check_naming_its_digest(live_cluster, existing, tmp_path):
    corrupted = {}

    def corrupt_the_largest_blob(run_dir):
        # The image is pushed (the check's fixture); one byte of its 24 MiB layer flips at rest.
        bucket, s3 = _run_bucket(live_cluster, run_dir)
        blobs = [o for o in s3.list_objects_v2(Bucket=bucket, Prefix=BLOBS).get("Contents", [])
                 if o["Key"].endswith("/data")]
        big = max(blobs, key=lambda o: o["Size"])
        data = bytearray(s3.get_object(Bucket=bucket, Key=big["Key"])["Body"].read())
        data[len(data) // 2] ^= 0xFF
        s3.put_object(Bucket=bucket, Key=big["Key"], Body=bytes(data))
        corrupted["digest"] = "sha256:" + big["Key"].split("/")[-2]

    run = break_during(tmp_path, PUSH_PULL, corrupt_the_largest_blob, lambda _run_dir: None,
                       REGISTRY_MODULE, "-m", "object", "-k", "registry", *existing)
    checks = _outcomes(run)
    assert set(checks) == {PUSH_PULL, GC}, run
    assert checks[GC]["outcome"] == "passed", checks[GC]
    failed = checks[PUSH_PULL]
    assert failed["outcome"] == "failed", failed
    assert f"blob {corrupted['digest']} came back different" in failed["message"], failed["message"]
    assert "Traceback" not in failed["message"], failed["message"]
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"], run


def test_a_bucket_that_refuses_deletes_fails_the_garbage_collection_check(live_cluster, existing, tmp_path):
    bucket_of = {}

    def refuse_blob_deletes(run_dir):
        # Uploads still move into place (their deletes are outside blobs/); the collector's are refused.
        bucket, s3 = _run_bucket(live_cluster, run_dir)
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
            "Resource": f"arn:aws:s3:::{bucket}/{BLOBS}*"}]}
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        bucket_of.update(bucket=bucket, s3=s3)

    def allow_deletes(_run_dir):
        bucket_of["s3"].delete_bucket_policy(Bucket=bucket_of["bucket"])

    run = break_during(tmp_path, GC, refuse_blob_deletes, allow_deletes,
                       REGISTRY_MODULE, "-m", "object", "-k", "registry", *existing)
    checks = _outcomes(run)
    assert set(checks) == {PUSH_PULL, GC}, run
    assert checks[PUSH_PULL]["outcome"] == "passed", checks[PUSH_PULL]
    failed = checks[GC]
    assert failed["outcome"] == "failed", failed
    message = failed["message"]
    assert message.startswith(f"AssertionError: the registry's garbage collection failed on bucket "
                              f"{bucket_of['bucket']}: `registry garbage-collect` exited with 1: failed to garbage "
                              "collect:"), message
    assert "AccessDenied" in message and "/blobs/sha256/" in message, message
    assert "Traceback" not in message, message
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"], run
