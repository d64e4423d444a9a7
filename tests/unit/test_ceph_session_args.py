"""What a librados session takes from a `ceph` command line, and how its answers are shaped as the
tool's (dataplane/ceph_session.py). The session itself runs against a live cluster in
tests/integration/test_ceph_session.py."""

from ceph_conformance.dataplane.ceph_session import _result, split_ceph_args


def test_the_options_a_session_understands_are_taken_out_of_the_command():
    assert split_ceph_args(["--connect-timeout", "30", "osd", "dump", "--format", "json"], None) == \
        (["osd", "dump"], "json", b"")
    assert split_ceph_args(["osd", "new", "uuid", "3", "-i", "-"], b'{"cephx_secret": "k"}') == \
        (["osd", "new", "uuid", "3"], None, b'{"cephx_secret": "k"}')
    # flags that are part of the command itself stay in it, for the mons' parser
    assert split_ceph_args(["osd", "pool", "rm", "p", "p", "--yes-i-really-really-mean-it"], None)[0][-1] == \
        "--yes-i-really-really-mean-it"


def test_options_only_the_tool_parses_leave_the_command_to_the_tool():
    for args in (["status", "--cluster", "other"], ["osd", "getmap", "-o", "/tmp/map"],
                 ["osd", "setcrushmap", "-i", "/tmp/crush"], ["-s"]):
        assert split_ceph_args(args, None) is None, args


def test_answers_read_as_the_tools_output():
    ok = _result(["ceph", "osd", "pool", "ls"], {"ret": 0, "out": "cmJkCg==", "outs": ""})
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, b"rbd\n", b"")
    said = _result(["ceph", "osd", "pool", "create", "p"], {"ret": 0, "out": "", "outs": "pool 'p' created"})
    assert said.stderr == b"pool 'p' created\n"
    refused = _result(["ceph", "osd", "ok-to-stop", "0"], {"ret": -16, "out": "", "outs": "unsafe to stop osd(s)"})
    assert (refused.returncode, refused.stderr) == (16, b"Error EBUSY: unsafe to stop osd(s)\n")
