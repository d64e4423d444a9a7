"""Small pieces: secrets, run names, bounded waits, commands."""

import time
from pathlib import Path

import pytest

from ceph_conformance import secrets
from ceph_conformance.commands import run
from ceph_conformance.errors import CommandError
from ceph_conformance.payload import difference
from ceph_conformance.run import Run, new_run_id, valid_run_id
from ceph_conformance.waits import WaitTimeout, wait_for


def test_scrub_masks_registered_secrets_and_any_cephx_key():
    secrets.register("abcdefghij0123456789")
    text = "secret abcdefghij0123456789 and key AQBjPHJmAAAAABAAm1Qm1Q0r3Y8d0H8n3n1n3w== end"
    assert secrets.scrub(text) == "secret *** and key *** end"
    assert secrets.contains_secret(text) and not secrets.contains_secret("nothing here")


def test_scrub_masks_the_signature_of_presigned_urls_as_rgw_logs_them():
    v4 = ('"PUT /b/up?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20261201%2Fus-east-1%2Fs3%2Faws4_request'
          '&X-Amz-Date=20261201T183848Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host'
          '&X-Amz-Signature=5140bef0de670c80780f5b3a5171aab2d0c1d0fd7edbda6e389769c267addfc7 HTTP/1.1" 200')
    v2 = "GET /b/k?AWSAccessKeyId=AK&Signature=40t7aPS4DsLehCOm7C%2FU0%2F5Vqjs%3D&Expires=1796150500 HTTP/1.1"
    assert secrets.scrub(v4).endswith("&X-Amz-Signature=*** HTTP/1.1\" 200") and "5140bef0" not in secrets.scrub(v4)
    assert secrets.scrub(v2) == "GET /b/k?AWSAccessKeyId=AK&Signature=***&Expires=1796150500 HTTP/1.1"
    assert secrets.scrub("x-amz-signedheaders=host;x-amz-date") == "x-amz-signedheaders=host;x-amz-date"


def test_run_names_are_unique_lowercase_and_fit_s3_bucket_rules():
    rid = new_run_id()
    assert valid_run_id(rid)
    run = Run(rid, Path("/x") / rid, Path("/r") / rid, worker="GW1")
    a, b = run.name("bkt"), run.name("bkt")
    assert a != b and a.startswith(run.prefix) and a == a.lower() and len(a) <= 63


def test_wait_returns_the_state_that_satisfied_it():
    seen = iter([(False, "starting"), (False, "peering"), (True, "active+clean")])
    assert wait_for(lambda: next(seen), what="pgs clean", timeout=5, interval=0.01) == "active+clean"


def test_wait_times_out_with_the_last_state_seen():
    def probe():
        raise ConnectionRefusedError("mon down")

    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as err:
        wait_for(probe, what="quorum", timeout=0.3, interval=0.05)
    assert time.monotonic() - t0 < 2
    assert str(err.value).startswith("quorum: not reached after 0s; last seen: ConnectionRefusedError: mon down")


def test_command_failure_names_the_command_and_its_output():
    with pytest.raises(CommandError) as err:
        run(["sh", "-c", "echo 'no such pool' >&2; exit 2"])
    assert str(err.value) == "`sh -c echo 'no such pool' >&2; exit 2` exited with 2: no such pool"


def test_command_overrun_is_bounded():
    t0 = time.monotonic()
    with pytest.raises(CommandError) as err:
        run(["sleep", "10"], timeout=0.3)
    assert time.monotonic() - t0 < 3
    assert "did not finish within 0s" in str(err.value)


def test_missing_binary_is_a_command_error():
    with pytest.raises(CommandError) as err:
        run(["no-such-binary-here"])
    assert err.value.returncode == 127


def test_difference_says_where_data_differs_without_printing_it():
    data = bytes(range(256)) * 4
    assert difference(data, data) is None
    assert difference(data[:-1], data) == "1023 bytes, not the 1024 expected"
    flipped = data[:700] + bytes([data[700] ^ 0xFF]) + data[701:]
    assert difference(flipped, data) == "1 of 1024 bytes differ, the first at offset 700"
