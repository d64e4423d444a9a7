"""The host's MinIO (targets/host_clients/minio.py) as the MinIO checks use it, on a local directory:
root credentials only in its environment (never its command line or log), S3 served once ready,
restarted on another client's view of the same directory, a start that cannot succeed fails
within its bound with MinIO's own words, and nothing is left running. Builds MinIO first if the
cache lacks it (host/gobuild.py)."""

import os

import pytest

from ceph_conformance.clients.s3 import make_client
from ceph_conformance.errors import SetupError
from ceph_conformance.host import processes
from ceph_conformance.targets.host_clients.minio import HostMinio
from ceph_conformance.targets.host_clients.sharedfs import HostFilesystemClient


def test_minio_serves_by_env_credentials_and_restarts_on_another_view(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    a, b = HostFilesystemClient("view-a", shared), HostFilesystemClient("view-b", shared)
    server = HostMinio(a, "minio", tmp_path / "run")
    try:
        server.start()
        secret = server.credentials.secret_key
        cmdline = open(f"/proc/{server.pid}/cmdline", "rb").read()
        assert secret.encode() not in cmdline and b"MINIO_ROOT_PASSWORD" not in cmdline
        assert secret.encode() in open(f"/proc/{server.pid}/environ", "rb").read()
        body = os.urandom(300_000)
        make_client(server.url, server.credentials, op_timeout=30).create_bucket(Bucket="bucket-one")
        make_client(server.url, server.credentials, op_timeout=30).put_object(Bucket="bucket-one", Key="k", Body=body)
        first_pid = server.pid
        server.move_to(b)
        assert not processes.is_alive(first_pid, str(tmp_path / "run")) and server.url is None
        server.start()
        assert server.client_name == "view-b"
        got = make_client(server.url, server.credentials, op_timeout=30).get_object(Bucket="bucket-one", Key="k")
        assert got["Body"].read() == body
    finally:
        pid = server.pid
        server.stop()
    assert not processes.is_alive(pid, str(tmp_path / "run"))
    assert secret not in server.log.read_text(), "MinIO's log shows its root password"


def test_a_minio_that_cannot_start_says_why_from_its_log(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "minio").write_text("a file where MinIO's drive directory should be")
    server = HostMinio(HostFilesystemClient("view-a", shared), "minio", tmp_path / "run")
    with pytest.raises(SetupError) as failed:
        server.start(timeout=60)
    message = str(failed.value)
    assert "MinIO exited while starting on view-a" in message and "MinIO's log ends:" in message, message
    assert server.pid is None
