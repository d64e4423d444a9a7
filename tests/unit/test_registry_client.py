"""The registry as a process of the run (clients/registry.py), without a cluster: its S3 keys only in
its 0600 configuration, stopped by its mark, and a start that fails says why in the registry's words.

Uses the real registry binary (built from the Go module proxy into the cache on first use)."""

import os

import psutil
import pytest

from ceph_conformance.clients.registry import Registry, ensure_binary
from ceph_conformance.clients.s3 import S3Credentials
from ceph_conformance.errors import SetupError
from ceph_conformance.host import processes
from ceph_conformance.host.ports import free_port

SECRET = "registry-unit-test-secret-0123456789"


@pytest.fixture(scope="module")
def binary():
    return ensure_binary(progress=print)


def _registry(tmp_path, binary, bucket="cconf-unit-bucket"):
    # An S3 endpoint nobody listens on: the registry needs none to answer /v2/ (its storage health check is off).
    creds = S3Credentials("cconf-unit-user", "UNITACCESSKEY0000000", SECRET)
    return Registry(tmp_path / "registry", f"http://127.0.0.1:{free_port()}", creds, bucket, binary)


def test_the_registry_keeps_its_s3_keys_in_a_private_file_and_stops_by_its_mark(tmp_path, binary):
    registry = _registry(tmp_path, binary)
    registry.start(timeout=30, progress=lambda _m: None)
    try:
        assert oct(registry.config_path.stat().st_mode & 0o777) == "0o600"
        assert SECRET in registry.config_path.read_text()
        proc = psutil.Process(registry.pid)
        assert SECRET not in " ".join(proc.cmdline()), proc.cmdline()
        assert SECRET not in " ".join(f"{k}={v}" for k, v in proc.environ().items())
        assert processes.pids_with_marker(str(tmp_path)) == [registry.pid]
    finally:
        assert registry.stop() == "stopped"
    assert processes.pids_with_marker(str(tmp_path)) == []
    assert SECRET not in registry.log_path.read_text()
    registry.remove()
    assert not registry.work_dir.exists()


def test_a_registry_that_exits_at_start_fails_with_the_end_of_its_log(tmp_path, binary):
    registry = _registry(tmp_path, binary, bucket="")
    with pytest.raises(SetupError) as err:
        registry.start(timeout=30, progress=lambda _m: None)
    message = str(err.value)
    assert message.startswith("the registry (github.com/distribution/distribution/v3/cmd/registry@v3.1.2) exited "
                              "before it answered GET http://127.0.0.1:"), message
    assert "no bucket parameter provided" in message, message
    assert processes.pids_with_marker(str(tmp_path)) == []
    assert os.path.exists(registry.log_path)
