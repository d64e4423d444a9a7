"""--ceph-image on the local target: options, how a daemon's container is started, the image recipes."""

import pytest

from ceph_conformance.errors import SetupError
from ceph_conformance.host import containers, images
from ceph_conformance.options import OptionError, RunOptions, validate
from ceph_conformance.targets.local import cephimage
from ceph_conformance.targets.local.containers import CephContainers, container_name


def test_local_runs_the_hosts_packages_unless_an_image_is_named():
    assert RunOptions().ceph_image is None
    validate(RunOptions(ceph_image="localhost/ceph-conformance/ceph:18.2.7"))


@pytest.mark.parametrize("opts, says", [
    (RunOptions(ceph_image=" "), "--ceph-image is empty"),
    (RunOptions(target="ceph", ceph_conf="/etc/ceph/ceph.conf", ceph_image="quay.io/ceph/ceph:v18"),
     "not --target ceph"),
])
def test_bad_ceph_image_options_say_what_to_do(opts, says):
    with pytest.raises(OptionError, match=says):
        validate(opts)


def test_a_daemon_runs_in_a_container_named_and_labelled_with_the_run(tmp_path):
    cluster_dir = tmp_path / "20261201-120000-abcd" / "cluster"
    c = CephContainers("localhost/ceph-conformance/ceph:18.2.7", cluster_dir)
    argv = c.daemon_argv("mon.a", ["ceph-mon", "-c", cluster_dir / "ceph.conf", "-i", "a", "-f"])
    assert argv[:4] == ["podman", "--runtime", "runc", "run"]
    assert "--rm" in argv and "--replace" in argv
    assert argv[argv.index("--name") + 1] == "cconf-20261201-120000-abcd-mon.a"
    labels = [argv[i + 1] for i, a in enumerate(argv) if a == "--label"]
    assert f"{containers.OWNER_LABEL}={cluster_dir}" in labels
    assert f"{containers.RUN_LABEL}=20261201-120000-abcd" in labels
    assert f"{cluster_dir}:{cluster_dir}" in argv and "/dev:/dev" in argv  # same paths inside; loop devices
    assert argv[argv.index("--network") + 1] == "host" and "--privileged" in argv
    assert "nofile=1000:1000" in argv and "nproc=1000:1000" in argv
    # The daemon is the entrypoint; the image's own (if any) does not run. As root: the run's dirs are root's.
    assert argv[argv.index("--entrypoint") + 1] == "ceph-mon" and argv[argv.index("--user") + 1] == "0:0"
    image_at = argv.index("localhost/ceph-conformance/ceph:18.2.7")
    assert argv[image_at + 1:] == ["-c", str(cluster_dir / "ceph.conf"), "-i", "a", "-f"]


def test_container_names_keep_only_what_podman_accepts():
    assert container_name("run 1/x", "osd.0") == "cconf-run-1-x-osd.0"


@pytest.mark.parametrize("owner, marker, belongs", [
    ("/r/run1/cluster", "/r/run1", True), ("/r/run1", "/r/run1/", True), ("/r/run1x/cluster", "/r/run1", False),
    (None, "/r/run1", False),
])
def test_containers_belong_to_a_run_by_their_owner_path(owner, marker, belongs):
    assert containers._belongs(owner, marker) is belongs


@pytest.mark.parametrize("debian, upstream", [
    ("18.2.7+ds-1+deb13u1", "18.2.7"), ("20.2.4+ds-2", "20.2.4"), ("2:16.2.15+ds-0+deb12u1", "16.2.15"),
])
def test_images_are_tagged_by_the_upstream_ceph_version(debian, upstream):
    assert images.upstream_version(debian) == upstream


def test_a_release_newer_than_debootstrap_uses_sids_script(tmp_path, monkeypatch):
    (tmp_path / "trixie").write_text("")
    monkeypatch.setattr(images, "DEBOOTSTRAP_SCRIPTS", tmp_path)
    assert images.debootstrap_script("trixie") == []
    assert images.debootstrap_script("forky") == [str(tmp_path / "sid")]


def test_recipes_exist_for_trixie_and_forky_only():
    assert cephimage.spec("forky").suite == "forky" and "ceph-mon" in cephimage.spec("trixie").packages
    with pytest.raises(SetupError, match="choose one of trixie, forky"):
        cephimage.spec("bookworm")
