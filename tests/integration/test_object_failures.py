"""The object checks catch a gateway that answers wrongly, not only one that is down.

Each case puts a proxy that corrupts RGW's answers in one way between the checks and the real
gateway, runs every object check, and asserts that exactly the checks for that behaviour fail, each
with a message that says what came back wrong, while the others still pass."""

import pytest

from . import s3_proxy
from .harness import run_suite

CASES = {
    "object-bytes-changed": (
        s3_proxy.flip_a_byte_of_whole_object_gets,
        {"test_put_get_roundtrip[1KiB]": "1024-byte object came back different",
         "test_put_get_roundtrip[4MiB]": "4194304-byte object came back different",
         "test_overwrite_replaces_object": "GET after overwrite returned the old data",
         "test_presigned_get_with_plain_http": "a presigned GET returned other data"}),
    "ranges-one-byte-short": (
        s3_proxy.drop_the_last_byte_of_ranged_gets,
        {"test_ranged_get": "Range bytes=0-99: 99 bytes, not the 100 expected",
         "test_put_get_roundtrip_multipart": "64 MiB multipart object came back different"}),
    "listing-claims-to-be-complete": (
        s3_proxy.claim_listings_are_complete,
        {"test_list_past_1000_keys_with_prefix_and_delimiter": "first page of 1010 keys: IsTruncated=False"}),
    "user-metadata-dropped": (
        s3_proxy.drop_user_metadata,
        {"test_user_metadata_and_content_type": "user metadata came back as {}"}),
    "refusals-let-through": (
        s3_proxy.let_refused_requests_through,
        {"test_wrong_secret_is_rejected": "list_buckets succeeded (HTTP 200); expected it to be refused with "
                                          "SignatureDoesNotMatch (HTTP 403)",
         "test_second_user_cannot_read_first_users_bucket": "get_object succeeded (HTTP 200); expected it to be "
                                                            "refused with AccessDenied (HTTP 403)",
         "test_presigned_get_with_plain_http": "a presigned URL with a broken signature got HTTP 200, expected 403"}),
}


@pytest.mark.parametrize("case", CASES)
def test_object_checks_name_what_a_corrupting_gateway_got_wrong(live_cluster, existing, tmp_path, case):
    corrupt, expected = CASES[case]
    with s3_proxy.CorruptingProxy(live_cluster.rgw_endpoint, corrupt) as proxy:
        args = [proxy.endpoint if a == live_cluster.rgw_endpoint else a for a in existing]
        run = run_suite(tmp_path, "-m", "object", *args)
    assert proxy.altered > 0, f"the proxy changed no answer in case {case}"
    assert run.returncode == 1, run
    checks = {c["nodeid"].split("::")[-1]: c for c in run.checks("object")}
    assert len(checks) >= 13, sorted(checks)
    failed = {name for name, c in checks.items() if c["outcome"] != "passed"}
    assert failed == set(expected), f"{case}: failed {sorted(failed)}, expected {sorted(expected)}\n{run!r}"
    for name, fragment in expected.items():
        c = checks[name]
        assert c["outcome"] == "failed", c  # an assertion about the answer, not an error in the suite
        assert fragment in c["message"], f"{name}: {c['message']}"
        assert "Traceback" not in c["message"], c["message"]
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"]
    # What the corrupted answers kept the checks' cleanup from removing went with the run's users.
    prefix = "cconf-" + run.results["run_id"]
    users = live_cluster.client().tool_json("radosgw-admin", "user", "list")
    assert not [u for u in users if u.startswith(prefix)], f"S3 users of the run left: {users}"
    buckets = live_cluster.client().tool_json("radosgw-admin", "bucket", "list")
    assert not [b for b in buckets if b.startswith(prefix)], f"buckets of the run left: {buckets}"


def test_object_checks_report_the_server_errors_the_sdk_retried(live_cluster, existing, tmp_path):
    # One request in 25 answered 503 without reaching RGW: the SDK's retry succeeds, the data is
    # right, and still each check that met one fails naming it, with its retries as a figure.
    refuse = s3_proxy.ServiceUnavailableEvery(25)
    with s3_proxy.CorruptingProxy(live_cluster.rgw_endpoint, s3_proxy.keep_answers, refuse=refuse) as proxy:
        args = [proxy.endpoint if a == live_cluster.rgw_endpoint else a for a in existing]
        run = run_suite(tmp_path, "-m", "object", *args)
    assert refuse.answered, "the proxy refused no request"
    checks = {c["nodeid"].split("::")[-1]: c for c in run.checks("object")}
    retries = {name: next((m["value"] for m in c["metrics"] if m["name"] == "s3_retries"), None)
               for name, c in checks.items()}
    assert retries["test_put_get_roundtrip[1KiB]"] is not None, "no s3_retries figure for an S3 check"
    retried = {name for name, n in retries.items() if n}
    # 1018 PUTs from 16 threads meet about 40 refusals: every one retried and counted.
    assert retries["test_list_past_1000_keys_with_prefix_and_delimiter"] >= 30, retries
    assert retried, f"no check reports a retry; the proxy refused {len(refuse.answered)} requests"
    # The SDK's retries, from the checks' figures, are the proxy's 503s to the SDK (the presigned
    # check's plain HTTP GET is not retried: it sees its 503 itself).
    assert sum(retries[name] for name in retried) <= len(refuse.answered), (retries, refuse.answered)
    html = (run.report_dir / "report.html").read_text()
    for name in retried:
        c = checks[name]
        # Failed, or an error when only the check's cleanup met the 503 (its steps had passed).
        assert c["outcome"] == "failed" or (c["outcome"] == "error" and "during the check's cleanup" in
                                            c["message"]), c
        assert "hidden by the SDK's retries: HTTP 503 on " in c["message"], c["message"]
    assert "S3 retry: HTTP 503 on " in html, "the retries are not in the checks' captured output"
    assert run.returncode == 1, run
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"]


def test_object_checks_fail_within_the_op_budget_when_the_gateway_goes_silent(live_cluster, existing, tmp_path):
    """The gateway takes every GET of an object and never answers (connections accepted, nothing
    back). The checks that read objects fail, each within --op-timeout (the SDK's retries
    included), saying the endpoint did not answer; the checks that read none still pass."""
    budget = 12
    silent = s3_proxy.SilentOn(s3_proxy.object_gets)
    with s3_proxy.CorruptingProxy(live_cluster.rgw_endpoint, s3_proxy.keep_answers, refuse=silent) as proxy:
        args = [proxy.endpoint if a == live_cluster.rgw_endpoint else a for a in existing]
        run = run_suite(tmp_path, "-m", "object", f"--op-timeout={budget}", *args)
    assert silent.held, "the proxy held no request"
    checks = {c["nodeid"].split("::")[-1]: c for c in run.checks("object")}
    for name in ("test_put_get_roundtrip[1KiB]", "test_ranged_get", "test_presigned_get_with_plain_http",
                 "test_second_user_cannot_read_first_users_bucket"):
        c = checks[name]
        assert c["outcome"] == "failed", c
        assert "S3 endpoint accepted the request but did not answer" in c["message"], c["message"]
        # One operation's budget, plus the check's other steps and its cleanup (a few seconds).
        assert c["duration_s"] < budget + 15, c
    for name in ("test_bucket_create_list_delete", "test_list_past_1000_keys_with_prefix_and_delimiter",
                 "test_wrong_secret_is_rejected"):
        assert checks[name]["outcome"] == "passed", checks[name]
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"]
