"""The librados session (dataplane/ceph_session.py) answers as the `ceph` tool does, on a real
cluster: the same exit status, stdout and stderr for commands that succeed, fail and are refused;
the tool still takes what a session does not; a session ends with its caller's input, leaving no
process; and a session that cannot start leaves every command to the tool."""

import json
import time

import pytest

from ceph_conformance import toolstats
from ceph_conformance.ceph_client import CephClient
from ceph_conformance.dataplane import ceph_session
from ceph_conformance.host import processes
from ceph_conformance.targets.host_clients.tools import HostCephTools


def by_tool(tools, args):
    return tools.call("ceph", args)


def by_session(tools, args):
    result = ceph_session.run_ceph(tools, args, None, 30)
    assert result is not None, f"the session did not take `ceph {' '.join(args)}`"
    return result


@pytest.mark.parametrize("args", [
    ["osd", "pool", "get", "no-such-pool", "size"],  # ENOENT
    ["osd", "pool", "set", "rbd", "size", "0"],  # EINVAL, the mon's own words
    ["osd", "ok-to-stop", "0", "1", "2"],  # EBUSY, with JSON on stdout
    ["osd", "pool", "ls", "--format", "json"],
    ["osd", "df", "--format", "json"],  # the mgr's
])
def test_a_session_answers_as_the_ceph_tool(live_cluster, args):
    tools = live_cluster.tools()
    session, tool = by_session(tools, args), by_tool(tools, args)
    assert session.returncode == tool.returncode, (session, tool)
    assert session.stderr.strip() == tool.stderr.strip()
    if "--format" in args:
        assert set(json.loads(session.stdout)) == set(json.loads(tool.stdout))
    else:
        assert session.stdout.strip() == tool.stdout.strip()


def test_commands_a_session_does_not_take_go_to_the_tool(live_cluster):
    tools = live_cluster.tools()
    for args in (["tell", "mon.a", "version"], ["pg", "1.0", "query"], ["status", "--cluster", "ceph"],
                 ["osd", "no-such-command"]):  # the tool's own "no valid command found; 10 closest matches"
        assert ceph_session.run_ceph(tools, args, None, 30) is None, args
    before = toolstats.snapshot()
    version = json.loads(CephClient(tools).ceph("tell", "mon.a", "version"))
    assert version["version"] and toolstats.since(before)["ceph"]["calls"] == 1


def test_a_session_is_fast_and_ends_with_its_callers_input(live_cluster):
    tools = live_cluster.tools()
    argv = tools.session_argv(ceph_session.PROGRAM, ceph_session.LAUNCH, ceph_session.CONNECT_TIMEOUT,
                              ceph_session.OSD_OP_TIMEOUT)
    session = ceph_session.CephSession(argv, "test session")
    try:
        t0 = time.monotonic()
        for _ in range(20):
            answer = session.request({"op": "ceph", "args": ["status"], "format": "json", "inbuf": "",
                                      "timeout": 30}, 35)
            assert answer["ret"] == 0
        per_command = (time.monotonic() - t0) / 20
        assert per_command < 0.2, f"{per_command:.2f}s per `ceph status` through a session"
    finally:
        session.close()
    assert session.proc.returncode == 0
    assert not processes.is_alive(session.proc.pid, str(live_cluster.conf))


def test_without_a_session_every_command_goes_to_the_tool(live_cluster, tmp_path):
    broken = HostCephTools(tmp_path / "no-such-ceph.conf", live_cluster.keyring("client.admin"))
    assert ceph_session.run_ceph(broken, ["status"], None, 30) is None
    # ...and the tool says what is wrong, as it always did
    with pytest.raises(Exception, match="no-such-ceph.conf"):
        CephClient(broken, timeout=30).ceph("status")
