"""On a cluster the suite did not create: runs touch only their own resources, and a later sweep
removes what a dead run left, never a live run's and never anything without the suite's prefix."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from ceph_conformance import cluster_runs
from ceph_conformance.clients.rgw_admin import RgwAdmin
from ceph_conformance.host.sweep import mounts_under
from ceph_conformance.targets.host_clients.cephfs import AdminRoot, FuseClients, FuseMount

from .harness import REPO, run_suite

FS = "cephfs"


def _old_run_id(hours_ago):
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() - hours_ago * 3600)) + "-0dea"


def _fs_name(ceph):
    return [fs["name"] for fs in ceph.ceph_json("fs", "ls")][0]


def _tree(root):
    """Every file under root with its bytes: what "byte-identical" is compared on."""
    found = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


@pytest.fixture
def user_data(live_cluster, tmp_path):
    """A directory a user of the cluster keeps in CephFS (no suite prefix), removed after the test."""
    ceph = live_cluster.client()
    fs = _fs_name(ceph)
    root = FuseMount(ceph, ceph.tools.name, ceph.tools.keyring, fs, tmp_path / "mnt-admin", tmp_path).mount()
    try:
        home = root.root / "home-data"
        (home / "sub").mkdir(parents=True)
        (home / "notes.txt").write_bytes(b"user bytes \x00\x01" * 100)
        (home / "sub" / "db").write_bytes(os.urandom(65536))
        yield root.root, _tree(home)
    finally:
        import shutil

        shutil.rmtree(root.root / "home-data", ignore_errors=True)
        root.unmount()


def _sweep_cluster(live_cluster, *extra):
    cmd = [sys.executable, "-m", "ceph_conformance", "sweep-cluster", f"--ceph-conf={live_cluster.conf}",
           f"--ceph-keyring={live_cluster.keyring('client.admin')}", *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_sweep_cluster_removes_a_dead_runs_leftovers_only(live_cluster, user_data, tmp_path):
    ceph = live_cluster.client()
    root, before = user_data
    dead, live = _old_run_id(2), _old_run_id(3)[:-4] + "a11e"
    rgw = RgwAdmin(ceph)
    rgw.create_user(f"cconf-{dead}-gw0-s3-1")
    rgw.create_user(f"cconf-{live}-gw0-s3-1")
    rgw.create_user("someone-else-cconf")
    ceph.ceph("auth", "get-or-create", f"client.cconf-{dead}-gw0-fs-2")
    with AdminRoot(ceph, _fs_name(ceph), tmp_path / "setup") as admin:
        admin.mkdir(f"cconf-{dead}-gw0-fs-1")
        (admin.mount.root / f"cconf-{dead}-gw0-fs-1" / "left.bin").write_bytes(b"x" * 4096)
    # The live run: an old start, but its owner (this process) lives and its heartbeat is fresh.
    cluster_runs.write(ceph, live, {**cluster_runs.owner_of(tmp_path), "pid": os.getpid(),
                                    "create_time": psutil.Process().create_time(), "heartbeat": time.time()})
    try:
        dry = _sweep_cluster(live_cluster, "--dry-run")
        assert dry.returncode == 0, dry.stdout + dry.stderr
        for item in (f"S3 user cconf-{dead}-gw0-s3-1", f"cephx user client.cconf-{dead}-gw0-fs-2",
                     f"CephFS directory cconf-{dead}-gw0-fs-1"):
            assert f"would remove {item}" in dry.stdout, dry.stdout
        assert live not in dry.stdout.replace(f"left alone: run {live}", ""), dry.stdout
        assert f"cconf-{dead}-gw0-s3-1" in rgw.users_with_prefix("cconf-"), "the dry run removed a user"

        t0 = time.monotonic()
        done = _sweep_cluster(live_cluster)
        print(f"sweep-cluster took {time.monotonic() - t0:.1f}s:\n{done.stdout}")
        assert done.returncode == 0, done.stdout + done.stderr
        users = ceph.tool_json("radosgw-admin", "user", "list")
        assert f"cconf-{dead}-gw0-s3-1" not in users and f"cconf-{live}-gw0-s3-1" in users, users
        assert "someone-else-cconf" in users, users
        entities = [e["entity"] for e in ceph.ceph_json("auth", "ls")["auth_dump"]]
        assert f"client.cconf-{dead}-gw0-fs-2" not in entities
        assert not (root / f"cconf-{dead}-gw0-fs-1").exists(), "the dead run's CephFS directory stayed"
        assert _tree(root / "home-data") == before, "the user's CephFS directory changed"
        assert live in cluster_runs.records(ceph), "the live run's record went"
        left = [m for m in mounts_under(Path(tempfile.gettempdir())) if "cconf-sweep-" in m]
        assert not left, f"the sweep left its CephFS mount: {left}"
    finally:
        rgw.remove_user(f"cconf-{live}-gw0-s3-1")
        rgw.remove_user("someone-else-cconf")
        cluster_runs.remove(ceph, live)


def test_cephfs_clients_reach_only_their_runs_directory(live_cluster, user_data, tmp_path):
    ceph = live_cluster.client()
    root, before = user_data
    counter = iter(range(1, 100))
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-5afe"
    fs = FuseClients(ceph, _fs_name(ceph), tmp_path / "clients", lambda kind: f"cconf-{run_id}-main-{kind}-"
                          f"{next(counter)}")
    try:
        client = fs.new_client()
        (client.root / "mine").write_bytes(b"ok")
        assert (root / fs.directory.lstrip("/") / "mine").read_bytes() == b"ok", "the client mounts another dir"
        caps = ceph.ceph_json("auth", "get", client.name)[0]["caps"]
        assert f"path={fs.directory}" in caps["mds"], caps
        # The client's key on the filesystem's root: the mount is refused, or writing is.
        outside = FuseMount(ceph, client.name, client.keyring, _fs_name(ceph), tmp_path / "outside",
                            tmp_path / "outside-log")
        (tmp_path / "outside-log").mkdir()
        try:
            outside.mount(timeout=20)
        except Exception as exc:  # noqa: BLE001 - refused at mount time, for want of permission
            assert "Operation not permitted" in str(exc) or "Permission denied" in str(exc), exc
            print(f"mount of / with the client's key refused: {str(exc)[-200:]}")
        else:
            with pytest.raises(PermissionError):
                (outside.root / "home-data" / "notes.txt").write_bytes(b"overwritten")
            with pytest.raises(PermissionError):
                (outside.root / "intruder").mkdir()
        finally:
            outside.unmount()
    finally:
        problems = fs.close()
    assert not problems, problems
    assert not [n for n in os.listdir(root) if n.startswith(f"cconf-{run_id}")], os.listdir(root)
    assert _tree(root / "home-data") == before


def test_a_sharedfs_run_leaves_user_data_and_nothing_of_its_own(live_cluster, existing, user_data, tmp_path):
    root, before = user_data
    run = run_suite(tmp_path / "reports", "-m", "sharedfs", *existing)
    assert run.returncode == 0, run
    prefix = "cconf-" + run.results["run_id"]
    assert not [n for n in os.listdir(root) if n.startswith(prefix)], os.listdir(root)
    assert _tree(root / "home-data") == before, "the user's CephFS directory changed"
    ceph = live_cluster.client()
    entities = [e["entity"] for e in ceph.ceph_json("auth", "ls")["auth_dump"]]
    assert not [e for e in entities if e.startswith("client." + prefix)], entities
    assert run.results["run_id"] not in cluster_runs.records(ceph), "the run's record stayed"
    assert json.dumps(run.results["checks"])  # the run did record its checks
