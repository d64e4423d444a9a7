"""Rook's operator image, built here for real: the `rook` binary of Rook v1.12.11 from the Go module
proxy, on the suite's Ceph 18.2.7 image (Debian trixie), into podman's storage and an OCI archive;
then imported into every node of the test bed, where a pod per node runs `rook version` (and
`ceph --version`) from it.

The operator itself is not started, nor anything that talks to the API or a Service: the bed's
network is not sealed yet, and such a packet would leave through the host's default route. The
pods here open no connection (no service-account token either).

Slow the first time (a cold rook build is minutes, the Ceph image minutes more); cached after:
a second build is a label comparison. Each step's time is printed.
"""

import json
import os
import subprocess
import time

import pytest

from ceph_conformance.run import new_run_id
from ceph_conformance.targets.rook import build, image
from ceph_conformance.targets.rook.kube import Kube
from ceph_conformance.targets.rook.on_testbed import import_rook_images
from ceph_conformance.waits import wait_for

VERSION = "1.12.11"
RUN = new_run_id()
SKIP_ENV = "CCONF_SKIP_ROOK_IMAGE"  # a machine that cannot spend the cold build's ~20 min


def _say(message):
    print(f"[rook image] {message}", flush=True)


@pytest.fixture(scope="module")
def operator_image():
    """(name, archive, {step: seconds}) of the operator image, built as a user's run would."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: Rook's operator image is not built (unset it to build and test it)")
    timings = {}
    t0 = time.monotonic()
    binary = build.ensure_rook_binary(VERSION, _say)
    timings["rook binary"] = time.monotonic() - t0
    t0 = time.monotonic()
    name, archive = image.operator_archive(VERSION, progress=_say)
    timings["operator image and archive"] = time.monotonic() - t0
    _say("; ".join(f"{k}: {v:.1f}s" for k, v in timings.items()))
    return name, archive, binary, timings


def test_the_rook_binary_is_rooks_and_a_second_build_is_instant(operator_image):
    _, _, binary, _ = operator_image
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "rook: v1.12.11" in out.stdout
    t0 = time.monotonic()
    assert build.ensure_rook_binary(VERSION, _say) == binary
    assert time.monotonic() - t0 < 5


def test_the_operator_image_holds_what_rooks_image_does(operator_image):
    name, archive, _, _ = operator_image
    assert name == "localhost/ceph-conformance/rook-ceph:v1.12.11-ceph18.2.7"
    (info,) = json.loads(subprocess.run(["podman", "image", "inspect", name], capture_output=True, text=True,
                                        timeout=60, check=True).stdout)
    assert info["Config"]["Entrypoint"] == ["/usr/local/bin/rook"]
    assert info["Config"]["User"] == "2016"
    assert info["Labels"]["rook-version"] == "v1.12.11"
    _say(f"{name}: {info['Size'] / 1e6:.0f} MB in podman's storage, archive {archive.stat().st_size / 1e6:.0f} MB")
    # No network for the container (nothing in it needs one); runc, and lower ulimits (DESIGN).
    listing = subprocess.run(
        ["podman", "run", "--rm", "--network", "none", "--runtime", "runc", "--ulimit", "nofile=1000:1000",
         "--ulimit", "nproc=1000:1000", "--entrypoint", "sh", name, "-c",
         "id -u; getent passwd rook; ls /usr/local/bin /etc/ceph-monitoring /etc/rook-external /etc/ceph-csv-templates;"
         " rook version; ceph --version"],
        capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout
    assert out.startswith("2016\nrook:x:2016:")
    for expected in ("toolbox.sh", "set-ceph-debug-level", "rook\n", "localrules.yaml",
                     "create-external-cluster-resources.py", "rook: v1.12.11", "ceph version 18.2.7"):
        assert expected in out, f"{expected!r} not in the image's listing:\n{out}"


def test_a_second_image_build_is_a_cache_hit(operator_image):
    name, archive, _, _ = operator_image
    before = image.image_id(name), archive.stat().st_mtime
    t0 = time.monotonic()
    assert image.operator_archive(VERSION, progress=_say) == (name, archive)
    warm = time.monotonic() - t0
    _say(f"warm: {warm:.1f}s")
    assert (image.image_id(name), archive.stat().st_mtime) == before
    assert warm < 30  # hashing the 70 MB binary and the files, and podman inspect


def test_the_operator_image_runs_rook_version_on_every_node_of_the_bed(operator_image, testbed, bed_nodes, kube_api):
    imported = import_rook_images(testbed, VERSION, progress=_say, ceph=False)
    name = imported["operator"]
    assert name == operator_image[0]
    kube = Kube(kube_api, discovery_cache=str(testbed.dir / "rook-image-discovery.json"))
    ns = f"cconf-rook-image-{RUN}".lower()
    kube.apply({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"ceph-conformance/run": RUN}}})
    try:
        wait_for(lambda: (kube.get("v1", "ServiceAccount", "default", ns) is not None, "none yet"),
                 what="the default ServiceAccount", timeout=60, interval=0.5)
        pods = []
        for node in bed_nodes:
            pod = f"rook-version-{node}".replace(".", "-")
            containers = [{"name": "rook", "image": name, "imagePullPolicy": "Never", "command": ["rook", "version"]},
                          {"name": "ceph", "image": name, "imagePullPolicy": "Never",
                           "command": ["ceph", "--version"]}]
            kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns},
                        "spec": {"nodeName": node, "restartPolicy": "Never", "automountServiceAccountToken": False,
                                 "enableServiceLinks": False, "terminationGracePeriodSeconds": 1,
                                 "containers": containers}})
            pods.append(pod)

        def phases():
            seen = {p: (kube.get("v1", "Pod", p, ns) or {}).get("status", {}) for p in pods}
            state = {p: s.get("phase") for p, s in seen.items()}
            waiting = [f"{p}: {c['state']['waiting'].get('reason')}" for p, s in seen.items()
                       for c in s.get("containerStatuses", []) if c.get("state", {}).get("waiting")]
            return all(v in ("Succeeded", "Failed") for v in state.values()), f"{state} {waiting}"

        t0 = time.monotonic()
        wait_for(phases, what="the rook version pods to finish", timeout=180, interval=1)
        _say(f"rook version ran on {len(pods)} nodes in {time.monotonic() - t0:.1f}s")
        for pod in pods:
            assert kube.get("v1", "Pod", pod, ns)["status"]["phase"] == "Succeeded"
            assert "rook: v1.12.11" in kube.pod_log(ns, pod, container="rook")
            assert "ceph version 18.2.7" in kube.pod_log(ns, pod, container="ceph")
    finally:
        kube.delete("v1", "Namespace", ns)
        wait_for(lambda: (kube.get("v1", "Namespace", ns) is None, "still Terminating"),
                 what=f"namespace {ns} to be deleted", timeout=120, interval=1)


def test_rook_112s_toolbox_command_runs_in_the_ceph_image_as_rooks_user(operator_image, tmp_path):
    """The toolbox of Rook 1.12 (its own command, uid 2016, non-root) on the Ceph image the bed's nodes
    get: it writes ceph.conf from the mon endpoints Rook keeps in a ConfigMap, and the keyring."""
    from ceph_conformance.targets.rook import operator
    from ceph_conformance.targets.rook import release as rook_release
    from ceph_conformance.targets.rook.settings import RookSettings

    ceph, _ = image.ceph_archive(image.ceph_release_for(VERSION), progress=_say)
    s = RookSettings("20261201-080433-ab12", nodes={"n": ["/dev/loop20"]}, rook_version=VERSION, ceph_image=ceph,
                     image_pull_policy="Never")
    doc = operator.toolbox(rook_release.Release.for_options(VERSION), s)
    (container,) = doc["spec"]["template"]["spec"]["containers"]
    assert container["image"] == ceph and container["securityContext"]["runAsUser"] == 2016
    (tmp_path / "rook").mkdir()
    (tmp_path / "rook" / "mon-endpoints").write_text("a=127.0.0.11:6789,b=127.0.0.12:6789")  # only written to ceph.conf
    (tmp_path / "mon").mkdir()
    (tmp_path / "mon" / "secret.keyring").write_text("AQBtestsecretnotakey==")
    (tmp_path / "etc-ceph").mkdir()
    (tmp_path / "etc-ceph").chmod(0o777)  # an emptyDir's mode in Kubernetes (podman's --tmpfs is root's 0755)
    script = container["command"][2]
    run = subprocess.run(
        ["podman", "run", "--rm", "--network", "none", "--runtime", "runc", "--ulimit", "nofile=1000:1000",
         "--ulimit", "nproc=1000:1000", "--user", "2016:2016", "-v", f"{tmp_path / 'etc-ceph'}:/etc/ceph",
         "-v", f"{tmp_path / 'rook'}:/etc/rook:ro", "-v", f"{tmp_path / 'mon'}:/var/lib/rook-ceph-mon:ro",
         "-e", "ROOK_CEPH_USERNAME=client.admin", "-e", f"TOOLBOX={script}", "--entrypoint", "bash", ceph, "-c",
         'bash -c "$TOOLBOX" & sleep 3; cat /etc/ceph/ceph.conf /etc/ceph/keyring; kill %1'],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "mon_host = 127.0.0.11:6789,127.0.0.12:6789" in run.stdout
    assert "[client.admin]\nkey = AQBtestsecretnotakey==" in run.stdout
