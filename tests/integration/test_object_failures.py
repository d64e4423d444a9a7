"""The object checks catch a gateway that answers wrongly, not only one that is down.

Each case puts a proxy that corrupts RGW's answers in one way between the checks and the real
gateway, runs the object checks of one module, and asserts that exactly the checks for that
behaviour fail, each with a message that says what came back wrong, while the others still pass."""

import pytest

from . import s3_proxy
from .harness import run_suite
from .object_verdicts import assert_exactly_these_failed, assert_nothing_of_the_run_in_rgw

ROUND_TRIPS = "suites/test_object.py"  # the cases below; the semantics checks have their own
SEMANTICS = "suites/test_object_semantics.py"

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
        run = run_suite(tmp_path, "-m", "object", ROUND_TRIPS, *args)
    assert proxy.altered > 0, f"the proxy changed no answer in case {case}"
    assert_exactly_these_failed(run, case, expected, at_least=13)
    assert_nothing_of_the_run_in_rgw(live_cluster, run)


def test_object_checks_report_the_server_errors_the_sdk_retried(live_cluster, existing, tmp_path):
    # One request in 25 answered 503 without reaching RGW: the SDK's retry succeeds, the data is
    # right, and still each check that met one fails naming it, with its retries as a figure.
    refuse = s3_proxy.ServiceUnavailableEvery(25)
    with s3_proxy.CorruptingProxy(live_cluster.rgw_endpoint, s3_proxy.keep_answers, refuse=refuse) as proxy:
        args = [proxy.endpoint if a == live_cluster.rgw_endpoint else a for a in existing]
        run = run_suite(tmp_path, "-m", "object", ROUND_TRIPS, *args)
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
        run = run_suite(tmp_path, "-m", "object", ROUND_TRIPS, f"--op-timeout={budget}", *args)
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


# The semantics checks against corruptions only they catch. To keep the cost to two suite runs,
# each run's proxy applies several corruptions at once, each aimed at its own checks (none touches
# another's), and every check of the module is aimed at in one of the two runs.
OTHER_ETAG = '"0123456789abcdef0123456789abcdef"'
SEMANTIC_CASES = {
    "etags-preconditions-cors-versions-part-order": (
        [(s3_proxy.report_other_etags,
          {"test_single_part_etag_is_the_md5_of_the_object": f"HEAD answered ETag {OTHER_ETAG}, the MD5 of the object "
                                                             "is",
           "test_multipart_etag_is_the_md5_of_the_part_md5s_and_part_count":
               f"HEAD of a 2-part object answered ETag {OTHER_ETAG}, expected",
           "test_copy_object_keeps_or_replaces_metadata_as_directed": f"CopyObject answered ETag {OTHER_ETAG}, the "
                                                                      "source's is",
           "test_upload_part_copy_assembles_byte_ranges_of_the_source":
               f"UploadPartCopy of bytes=1048576-6291455 answered ETag {OTHER_ETAG}, that range's MD5 is"}),
         (s3_proxy.ignore_preconditions,
          {"test_get_and_head_honour_if_match_and_if_none_match": "GET with If-Match: \"",
           "test_get_and_head_honour_if_modified_and_if_unmodified_since": "GET with If-Modified-Since: ",
           "test_conditional_put_if_none_match_and_if_match": "put_object succeeded (HTTP 200); expected it to be "
                                                              "refused with PreconditionFailed (HTTP 412)"}),
         (s3_proxy.drop_cors_headers,
          {"test_cors_preflight_answers_allowed_origins_only": "a preflight from the allowed origin for PUT got HTTP "
                                                               "200 with no CORS headers"}),
         (s3_proxy.drop_version_ids,
          {name: "a PUT into a versioned bucket answered version id None" for name in (
              "test_versioning_keeps_every_version_of_an_overwritten_key",
              "test_delete_marker_hides_the_key_and_removing_it_restores_the_key",
              "test_deleting_a_version_removes_only_that_version")}),
         (s3_proxy.refuse_part_lists_out_of_order_with_invalid_part,
          {"test_complete_with_parts_out_of_order_is_refused_or_assembled_in_part_order":
               "CompleteMultipartUpload with parts listed 2, 1, 3: HTTP 400 InvalidPart, expected 400 "
               "InvalidPartOrder"})],
        None),
    "refusals-lost-listings-aborts-tags-presigned": (
        [(s3_proxy.accept_bad_digests_and_part_lists,
          {"test_content_md5_is_verified_on_put_and_upload_part": "put_object succeeded (HTTP 200); expected it to "
                                                                  "be refused with BadDigest (HTTP 400)",
           "test_complete_with_a_missing_or_wrong_part_is_refused_with_invalid_part":
               "complete_multipart_upload succeeded (HTTP 200); expected it to be refused with InvalidPart (HTTP 400)",
           "test_part_under_5mib_but_the_last_is_refused_with_entity_too_small":
               "complete_multipart_upload succeeded (HTTP 200); expected it to be refused with EntityTooSmall "
               "(HTTP 400)"}),
         (s3_proxy.drop_the_last_part_of_part_listings,
          {"test_list_parts_pages_through_the_uploaded_parts": "the first page of 2 of 3 parts: IsTruncated=False"}),
         (s3_proxy.drop_tag_sets,
          {"test_object_tags_put_get_delete": "GetObjectTagging after PutObjectTagging answers []",
           "test_tags_given_on_put_via_header": "tags given with x-amz-tagging on PUT came back as []"}),
         (s3_proxy.accept_forged_presigned_puts,
          {"test_presigned_put_with_plain_http": "a presigned PUT with a broken signature got HTTP 200, expected "
                                                 "403",
           "test_presigned_put_is_bound_to_the_headers_it_was_signed_with":
               "a presigned PUT sent with another Content-Type got HTTP 200, expected 403"}),
         # Aborts answered 204 and never made (the proxy's refuse hook answers them itself).
         (None, {"test_aborted_upload_is_gone": "the aborted upload is still listed"})],
        s3_proxy.pretend_aborts),
}


@pytest.mark.parametrize("case", SEMANTIC_CASES)
def test_semantics_checks_name_what_a_gateway_got_wrong(live_cluster, existing, tmp_path, case):
    aimed, refuse = SEMANTIC_CASES[case]
    corrupt = s3_proxy.all_of(*(c for c, _ in aimed if c is not None))
    expected = {name: fragment for _, checks in aimed for name, fragment in checks.items()}
    with s3_proxy.CorruptingProxy(live_cluster.rgw_endpoint, corrupt, refuse=refuse) as proxy:
        args = [proxy.endpoint if a == live_cluster.rgw_endpoint else a for a in existing]
        run = run_suite(tmp_path, "-m", "object", SEMANTICS, *args, timeout=300)
    assert proxy.altered > 0, f"the proxy changed no answer in case {case}"
    assert_exactly_these_failed(run, case, expected, checks_in_run=21)
    assert_nothing_of_the_run_in_rgw(live_cluster, run)
