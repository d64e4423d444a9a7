"""A crashed rbd-fuse is fenced (targets/host_clients/rbd.py): the OSDs drop its watch at once, rbd
calls that notify the image's watchers no longer wait for the dead client, and no blocklist entry
is left. An identity that may not blocklist leaves the watch to time out, and the crash still
goes through."""

import time

import pytest

from ceph_conformance.ceph_client import CephClient
from ceph_conformance.payload import MiB
from ceph_conformance.run import new_run_id
from ceph_conformance.targets.host_clients.rbd import RbdVolume
from ceph_conformance.targets.host_clients.tools import HostCephTools


def watchers(volume):
    return [w["address"] for w in volume.watchers()]


def blocklisted(ceph):
    # `ceph osd blocklist ls` says its count on stderr; the entries are "ADDR EXPIRY" lines.
    return ceph.ceph("osd", "blocklist", "ls")


@pytest.fixture
def volume(live_cluster, tmp_path):
    made = []

    def make(ceph):
        vol = RbdVolume(ceph, "rbd", f"fence-{new_run_id()}", tmp_path).create(64 * MiB)
        made.append(vol)
        return vol

    yield make
    for vol in made:
        vol.ceph = live_cluster.client()  # the test's own identity may be gone
        vol.remove()


def test_a_crashed_client_is_fenced_and_its_watch_goes_at_once(live_cluster, volume):
    ceph = live_cluster.client()
    vol = volume(ceph)
    vol.map()
    [address] = watchers(vol)
    vol.crash()
    assert vol.fenced
    assert watchers(vol) == [], "the killed rbd-fuse still watches the image"
    assert address not in blocklisted(ceph), "the fence's blocklist entry was left behind"
    t0 = time.monotonic()
    ceph.tool("rbd", "snap", "create", f"{vol.spec}@after-crash")
    # With the dead watch kept, the snapshot's notify waits 5 s for it to answer.
    assert time.monotonic() - t0 < 3, f"snap create took {time.monotonic() - t0:.1f}s"


def test_without_the_capability_to_blocklist_the_watch_times_out_instead(live_cluster, volume, tmp_path):
    admin = live_cluster.client()
    name = f"client.cconf-nofence-{new_run_id()}"
    keyring = tmp_path / "nofence.keyring"
    keyring.write_text(admin.ceph("auth", "get-or-create", name, "mon", "allow r", "osd", "allow rwx pool=rbd"))
    try:
        limited = CephClient(HostCephTools(live_cluster.conf, keyring, name), 60.0)
        vol = volume(limited)
        vol.map()
        as_admin = RbdVolume(admin, vol.pool, vol.image, tmp_path)
        [address] = watchers(as_admin)
        vol.crash()
        assert not vol.fenced
        assert watchers(as_admin) == [address], "the watch went without the fence: this test shows nothing"
        as_admin._fence(address)  # not to wait 30 s for it here
        assert watchers(as_admin) == []
    finally:
        admin.ceph("auth", "del", name)
