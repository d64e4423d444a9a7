"""The local target on another Ceph version: daemons, tools and clients from a Ceph image (--ceph-image),
here Debian trixie's Ceph 18.2.7, built by `make ceph-image` when podman lacks it (cached: seconds).

A run on it passes the health checks and a block check (the image's rbd-fuse exposing an RBD image:
it crashed under libfuse 3.17 when given `-p`), and reports the image's Ceph; a run that crashes leaves its
containers running, and the sweep removes exactly those, not a container of a neighbouring path.
On forky's Ceph 20.2.4 (its image built the same way), a known defect of 16.2 and 18.2 brought back
by a setting fails the check instead of being reported as known.
"""

import subprocess
import sys

import pytest

from ceph_conformance.host import containers
from ceph_conformance.targets.local.cephimage import ensure_ceph_image
from ceph_conformance.targets.local.containers import IDLE, container_name

from .harness import REPO, RUN_ROOT, RunningSuite, leftovers, run_suite

RELEASE = "trixie"
# Debian trixie's ceph-mgr 18.2.7 imports bcrypt, a PyO3 module, in every mgr module's subinterpreter;
# PyO3 refuses a second one, so 13 modules fail to load and Ceph says MGR_MODULE_DEPENDENCY. A
# defect of that build (the official v18 images use an older bcrypt), accepted as a reviewed mute.
MUTE = ("--mute-health", "MGR_MODULE_DEPENDENCY")


@pytest.fixture(scope="module")
def image():
    if not containers.available():
        pytest.skip("podman is not installed (Debian package podman): `make deps`")
    return ensure_ceph_image(RELEASE, progress=lambda msg: print(f"[ceph-image] {msg}"))


def test_health_and_a_block_check_pass_on_the_images_ceph_and_nothing_is_left(tmp_path, image):
    # Markers are keywords: the health checks and one block check, the raw device on the image's rbd-fuse.
    run = run_suite(tmp_path / "reports", "-m", "health or block", "-k", "not block or raw_io_pattern",
                    "--nodes", "3", f"--ceph-image={image}", *MUTE, timeout=600)
    assert run.returncode == 0, run
    version = image.rsplit(":", 1)[1]
    assert run.results["cluster"]["facts"]["ceph_versions"] == [f"{version} reef"], run.results["cluster"]["facts"]
    description = run.results["cluster"]["description"]
    assert description["ceph_image"] == image and f"ceph version {version} " in description["ceph_version"]
    assert f"Ceph {version} reef" in run.output, run
    assert run.results["counts"]["passed"] == 6, run.results["counts"]
    assert leftovers(RUN_ROOT / run.results["run_id"]) == []


def test_a_crashed_runs_containers_are_swept_and_only_they(tmp_path, image):
    suite = RunningSuite(tmp_path, "-m", "health", "--nodes", "3", f"--ceph-image={image}", *MUTE)
    neighbour = None
    try:
        run_dir = suite.run_dir()
        suite.wait_for_file(lambda: run_dir / "session" / "gate-start.json", timeout=300)
        # A container of another path that shares the run directory's name as a prefix.
        neighbour = container_name(f"{run_dir.name}x", "tools")
        subprocess.run(containers.run_argv(image, IDLE, name=neighbour, owner=f"{run_dir}x", run_id=f"{run_dir.name}x",
                                           role="tools", detach=True), check=True, capture_output=True, timeout=120)
        suite.kill()  # the controller dies: its daemons' containers are left running
        left = [name for name, _ in containers.owned(run_dir)]
        assert any(name.endswith("-mon.a") for name in left) and any("-tools" in n for n in left), left
        swept = subprocess.run([sys.executable, "-m", "ceph_conformance", "sweep", "--run-root", str(RUN_ROOT)],
                               cwd=REPO, capture_output=True, text=True, timeout=300)
        assert swept.returncode == 0, swept.stderr
        assert leftovers(run_dir) == [], swept.stdout
        assert [n for n, _ in containers.owned(f"{run_dir}x")] == [neighbour], "the sweep removed a neighbour"
    finally:
        suite.kill()
        if neighbour:
            containers.remove_owned(f"{run_dir}x", stop_timeout=2)


@pytest.fixture(scope="module")
def tentacle_image():
    if not containers.available():
        pytest.skip("podman is not installed (Debian package podman): `make deps`")
    return ensure_ceph_image("forky", progress=lambda msg: print(f"[ceph-image] {msg}"))


def test_a_known_defect_fails_on_a_release_that_has_its_fix(tmp_path, tentacle_image):
    # RGW 20.2.4 refuses x-amz-* headers a presigned PUT was not signed with; rgw_sigv4_insecure puts
    # back the behaviour of 16.2 and 18.2, where the check reports a known defect (xfailed). On 20.2.4
    # the same answer is a failure that says what the gateway took.
    run = run_suite(tmp_path / "reports", "-k", "presigned_put", "--nodes", "3", f"--ceph-image={tentacle_image}",
                    "-p", "tests.integration.insecure_sigv4", timeout=600)
    assert run.returncode == 1, run
    assert run.check("test_presigned_put_with_plain_http")["outcome"] == "passed"
    bound = run.check("test_presigned_put_is_bound_to_the_headers_it_was_signed_with")
    assert bound["outcome"] == "failed" and (
        "a presigned PUT with an x-amz-meta-admin header it was not signed with got HTTP 200, expected 403; the "
        "object's metadata is now {") in bound["message"], bound
    assert leftovers(RUN_ROOT / run.results["run_id"]) == []
