"""The S3 tools' wrappers (clients/s3_tools.py) with the real programs, no cluster: where the keys
go (never a command line), the files' modes, the environment, bounds and failure messages."""

import hashlib
import os
import re
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from ceph_conformance import secrets
from ceph_conformance.clients import s3_tools
from ceph_conformance.clients.s3 import S3Credentials

SECRET = secrets.register("unit-test-secret-key-" + os.urandom(8).hex())
CREDS = S3Credentials("cconf-unit", "UNITACCESSKEY0000000", SECRET)


def _installed(name):
    try:
        s3_tools.make_tool(name, "http://127.0.0.1:9", CREDS, "/tmp/never-made")
    except s3_tools.ToolMissing as exc:
        return str(exc)
    return None


def _tool(name, tmp_path, endpoint="http://127.0.0.1:9", **kw):
    missing = _installed(name)
    if missing:
        pytest.skip(missing)
    return s3_tools.make_tool(name, endpoint, CREDS, tmp_path / name, **kw)


@pytest.mark.parametrize("name", ["rclone", "s3cmd", "aws"])
def test_keys_never_on_the_command_line_and_files_are_private(tmp_path, name):
    tool = _tool(name, tmp_path)
    argv = tool.argv(["ls"])
    assert not any(SECRET in a or CREDS.access_key in a for a in argv), argv
    assert stat.S_IMODE(tool.dir.stat().st_mode) == 0o700
    for f in tool.dir.iterdir():
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    # The keys reach the tool by its environment or its own file, nowhere else.
    in_env = SECRET in tool.env().values()
    in_files = any(SECRET in f.read_text() for f in tool.dir.iterdir() if f.is_file())
    assert in_env or in_files


def test_tools_get_a_clean_environment_not_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "someones-production")
    monkeypatch.setenv("RCLONE_CONFIG_PROD_TYPE", "s3")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(Path.home() / ".aws" / "config"))
    for name in ("rclone", "aws"):
        env = _tool(name, tmp_path).env()
        assert "AWS_PROFILE" not in env and "RCLONE_CONFIG_PROD_TYPE" not in env, env.keys()
        assert env["HOME"] == str(tmp_path / name)
    aws = _tool("aws", tmp_path)
    assert aws.env()["AWS_CONFIG_FILE"] == str(aws.dir / "aws-config")


def test_aws_is_the_venvs_own_script():
    if _installed("aws"):
        pytest.skip(_installed("aws"))
    assert s3_tools.venv_program("aws", "awscli") == str(Path(sys.executable).parent / "aws")


def test_a_missing_tool_names_the_package_to_install():
    with pytest.raises(s3_tools.ToolMissing) as missing:
        s3_tools.venv_program("no-such-cli", "no-such-package")
    assert "install the PyPI package no-such-package" in str(missing.value)
    assert "\n" not in str(missing.value)
    path = os.environ["PATH"]
    try:
        os.environ["PATH"] = "/nonexistent"
        with pytest.raises(s3_tools.ToolMissing) as missing:
            s3_tools.debian_program("rclone")
    finally:
        os.environ["PATH"] = path
    assert "install the Debian package rclone (group s3clients" in str(missing.value), missing.value


def test_a_failing_tool_names_command_and_exit_status_and_shows_its_output(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    aws = _tool("aws", tmp_path, endpoint=f"http://127.0.0.1:{port}")
    with pytest.raises(s3_tools.ToolFailed) as failed:
        aws.run("s3", "ls", timeout=60)
    text = str(failed.value)
    assert text.startswith("`aws s3 ls --endpoint-url http://127.0.0.1:"), text
    assert "exited with status 255; aws said: Could not connect to the endpoint URL" in text, text
    assert "; its output ends: " in text, text
    assert SECRET not in text


def test_a_tool_that_hangs_is_killed_at_its_bound(tmp_path):
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        rclone = _tool("rclone", tmp_path, endpoint=f"http://127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(s3_tools.ToolFailed) as failed:
            rclone.run("lsd", f"{rclone.REMOTE}:", timeout=3)
    assert "did not finish within 3s (killed)" in str(failed.value), failed.value
    assert str(failed.value).startswith("`rclone lsd cconf: "), failed.value


# Each tool against a gateway that accepts connections and never answers: it gives up by its own
# timeouts, taken from the budget, and the failure names the command and the tool's own words.
# s3cmd 2.3 sleeps 45 s between its 5 retries whatever its config says: the command's bound
# (COMMAND_BUDGETS budgets) kills it, and its words so far are still named.
SILENT_CASES = {
    "rclone": (["lsd", "cconf:"], 8, 8 + 3, "exited with status 1; rclone said: ", r"i/o timeout|timeout awaiting"),
    "aws": (["s3", "ls"], 8, 8 + 3, "exited with status 255; aws said: ", r"Read timeout on endpoint URL"),
    "s3cmd": (["ls"], 4, s3_tools.COMMAND_BUDGETS * 4 + 3, "did not finish within 20s (killed); s3cmd said: ",
              r"Retrying failed request: / \(timed out\)"),
}


@pytest.mark.parametrize("name", SILENT_CASES)
def test_a_tool_against_a_silent_gateway_gives_up_within_its_bound_in_its_own_words(tmp_path, name):
    args, budget, bound, how, words = SILENT_CASES[name]
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        tool = _tool(name, tmp_path, endpoint=f"http://127.0.0.1:{server.getsockname()[1]}", op_timeout=budget)
        t0 = time.monotonic()
        with pytest.raises(s3_tools.ToolFailed) as failed:
            tool.run(*args)
        took = time.monotonic() - t0
    text = str(failed.value)
    print(f"{name} failed after {took:.1f}s (budget {budget}s): {text}")
    assert took < bound, f"{name} took {took:.1f}s, its bound is {bound}s: {text}"
    command = text.split("`")[1]  # the operation it was doing
    assert command.startswith(f"{name} ") and f" {' '.join(args)}" in command, text
    assert how in text and re.search(words, text.split(" said: ", 1)[1]), text
    assert SECRET not in text


def test_multipart_etag_is_md5_of_part_md5s(tmp_path):
    part = s3_tools.PART_SIZE
    data = os.urandom(2 * part + 100)
    f = tmp_path / "big"
    f.write_bytes(data)
    parts = [data[i:i + part] for i in range(0, len(data), part)]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert s3_tools.s3_etag(f) == expected
    f.write_bytes(data[:part])
    assert s3_tools.s3_etag(f) == hashlib.md5(data[:part]).hexdigest()
