"""Ghost's install into the cache (host/npminstall.py) and how its process gets its password."""

import os
import time

import pytest

from ceph_conformance.errors import SetupError
from ceph_conformance.host import npminstall, processes
from ceph_conformance.waits import wait_for


@pytest.mark.parametrize(("version", "ok"), [
    ((20, 20, 2), True), ((20, 11, 1), True), ((20, 11, 0), False), ((18, 12, 1), True), ((18, 12, 0), False),
    ((22, 13, 1), True), ((22, 12, 9), False), ((21, 7, 0), False), ((24, 0, 0), False), ((16, 20, 2), False)])
def test_node_versions_are_those_ghost_5_takes(version, ok):
    assert npminstall.node_supported(version) is ok


def test_no_node_is_said_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no npm
    with pytest.raises(SetupError) as err:
        npminstall.need_node()
    message = str(err.value)
    assert "\n" not in message and "no node" in message and "apt-get install nodejs npm" in message


def test_an_installed_version_is_a_cache_hit_without_npm(monkeypatch, tmp_path):
    monkeypatch.setenv(npminstall.CACHE_ENV, str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))  # npm would not be found: it must not be needed
    assert not npminstall.is_installed()
    ghost = tmp_path / "ghost" / npminstall.GHOST_VERSION / "ghost"
    (ghost / "node_modules" / "knex").mkdir(parents=True)
    (ghost / "node_modules" / "knex" / "package.json").write_text("{}")
    (ghost / "index.js").write_text("require('./ghost');\n")
    started = time.monotonic()
    assert npminstall.ensure_ghost(progress=pytest.fail) == ghost
    assert time.monotonic() - started < 1


def test_an_apps_password_is_in_its_environment_never_on_its_command_line(tmp_path):
    secret = "ghost-db-password-for-this-test-7f3a"
    pid = processes.start(["sleep", "30"], tmp_path / "log", tmp_path, env={"database__connection__password": secret},
                          cwd=tmp_path)
    try:
        # Popen returns once the child's exec has begun (vfork), which can be before the kernel has
        # laid out its new arguments and environment: /proc reads them empty until then.
        def exec_done():
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            return cmdline == b"sleep\x0030\x00", cmdline

        cmdline = wait_for(exec_done, what=f"process {pid} to show its command line", timeout=10, interval=0.05)
        assert secret.encode() not in cmdline
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        assert env[b"database__connection__password"] == secret.encode()
        assert env[processes.OWNER_ENV.encode()] == str(tmp_path).encode()  # still the run's mark
        assert os.readlink(f"/proc/{pid}/cwd") == str(tmp_path)
    finally:
        assert processes.stop(pid, str(tmp_path), timeout=10) == "stopped"
