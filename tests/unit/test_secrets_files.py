"""Secrets on disk: private from their creation, in a private run dir, and shared between the
processes of a run so that every process masks them."""

import os
import stat
import subprocess
import sys

import pytest

from ceph_conformance import secrets
from ceph_conformance.host.sweep import write_marker
from ceph_conformance.targets.local.cluster import LocalCluster


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the worst a user's shell can hand us
    yield
    os.umask(old)


def test_keyrings_are_private_and_never_written_through_a_planted_link(tmp_path, open_umask):
    cluster = LocalCluster(tmp_path / "cluster")
    (tmp_path / "cluster" / "keyring").mkdir(parents=True)
    bait = tmp_path / "bait"
    bait.write_text("")
    os.symlink(bait, cluster.keyring("client.x"))
    key = "AQ" + "k" * 36 + "=="
    path = cluster._write_keyring("client.x", key)
    assert bait.read_text() == "", "the key went through a link someone else planted"
    mode = path.lstat().st_mode
    assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o600, oct(mode)
    assert key in path.read_text()


def test_the_run_dir_is_private_and_the_run_root_not_world_writable(tmp_path, open_umask):
    run_dir = tmp_path / "root" / "run"
    write_marker(run_dir, "run")
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    assert not run_dir.parent.stat().st_mode & stat.S_IWOTH


_WORKER = """
import sys
from ceph_conformance import secrets
secrets.share(sys.argv[1])
secrets.register(sys.argv[2])
"""


def test_a_secret_another_process_registered_is_masked_here(tmp_path, monkeypatch):
    shared = tmp_path / "session" / "secrets"
    monkeypatch.setattr(secrets, "_shared", {"path": None, "mtime": None, "secrets": set()})
    secrets.share(shared)
    worker_secret = "s3-secret-of-a-worker-0123456789abcdefghij"
    assert secrets.scrub(f"key={worker_secret}") == f"key={worker_secret}"  # not known yet
    subprocess.run([sys.executable, "-c", _WORKER, str(shared), worker_secret], check=True, timeout=60)
    assert secrets.scrub(f"key={worker_secret}") == "key=***"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600
    mine = "a-controller-secret-9876543210"
    secrets.register(mine)
    assert mine in shared.read_text().splitlines(), "this process's secret was not shared"
