"""The S3 tools' checks (suites/test_object_clients.py) catch a gateway that answers wrongly.

A proxy that corrupts RGW's answers in one way stands between the tools (rclone, s3cmd, the AWS
CLI, and boto3 for the independent reads) and the real gateway; the tools' checks run against it,
and each must fail saying what came back wrong: the tool's own verdict where the tool can see it
(rclone check --download, s3cmd's and the AWS CLI's dry-run sync), else the independent download
or listing through boto3."""

import pytest

from . import s3_proxy
from .harness import S3_TOOLS_MODULE as MODULE
from .harness import run_suite
from .object_verdicts import assert_exactly_these_failed, assert_nothing_of_the_run_in_rgw

HIDDEN = "small/d5/"

CASES = {
    # Only reads of large objects are corrupted: every tool's upload and hash comparison pass, and
    # what reads the bytes back fails: rclone's check --download, and boto3 after the other tools.
    "large-object-reads-corrupted": (
        s3_proxy.flip_a_byte_of_large_object_gets,
        {"test_rclone_sync_tree_and_check_reports_no_differences":
            ["`rclone check --download` of ", "reports differences (exit status 1): 3 differ "
             "(large/big-0.bin, large/big-1.bin, large/big-2.bin)"],
         "test_s3cmd_sync_tree_and_md5_listing_matches_the_files":
            ["after s3cmd sync, bucket ", "listed and read through boto3: 3 of 203 downloaded differ from the "
             "files (SHA-256): large/big-0.bin, large/big-1.bin, large/big-2.bin"],
         "test_aws_cli_sync_tree_and_listing_sizes_and_etags_match":
            ["after aws s3 sync, bucket ", "3 of 203 downloaded differ from the files (SHA-256)"],
         "test_rclone_copies_between_buckets_deletes_and_lists":
            ["rclone's copy in bucket ", "1 of 41 downloaded differ from the files (SHA-256): large/big-0.bin"],
         "test_s3cmd_copies_between_buckets_deletes_and_lists":
            ["s3cmd's copy in bucket ", "1 of 41 downloaded differ from the files (SHA-256): large/big-0.bin"],
         "test_aws_cli_copies_between_buckets_deletes_and_lists":
            ["the AWS CLI's copy in bucket ", "1 of 41 downloaded differ from the files (SHA-256): large/big-0.bin"]}),
    # Listings leave out one directory: each tool's own comparison finds files missing and wants
    # them again; a copy made from such a listing lacks them.
    "listings-hide-a-directory": (
        s3_proxy.hide_keys_from_listings(HIDDEN),
        {"test_rclone_sync_tree_and_check_reports_no_differences":
            ["`rclone check` of ", "reports differences (exit status 1): 24 missing from cconf:", HIDDEN],
         "test_s3cmd_sync_tree_and_md5_listing_matches_the_files":
            ["after s3cmd sync, `s3cmd sync --dry-run --check-md5` from ", "would still transfer 24: upload: "],
         "test_aws_cli_sync_tree_and_listing_sizes_and_etags_match":
            ["after aws s3 sync, `aws s3 sync --dryrun` from ", "would still transfer 24: (dryrun) upload: "],
         "test_rclone_copies_between_buckets_deletes_and_lists":
            ["rclone's copy in bucket ", "keys: 5 missing (" + HIDDEN],
         "test_s3cmd_copies_between_buckets_deletes_and_lists":
            ["s3cmd ls of the copy ", "5 missing (" + HIDDEN],
         "test_aws_cli_copies_between_buckets_deletes_and_lists":
            ["the AWS CLI's copy in bucket ", "keys: 5 missing (" + HIDDEN]}),
}


@pytest.mark.parametrize("case", CASES)
def test_s3_tool_checks_name_what_a_corrupting_gateway_got_wrong(live_cluster, existing, tmp_path, case):
    corrupt, expected = CASES[case]
    with s3_proxy.CorruptingProxy(live_cluster.rgw_endpoint, corrupt) as proxy:
        args = [proxy.endpoint if a == live_cluster.rgw_endpoint else a for a in existing]
        run = run_suite(tmp_path, MODULE, *args, timeout=600)
    assert proxy.altered > 0, f"the proxy changed no answer in case {case}"
    # Every check of the module fails here, each saying what the tool or the independent read saw.
    assert_exactly_these_failed(run, case, expected, checks_in_run=len(expected))
    assert_nothing_of_the_run_in_rgw(live_cluster, run)
