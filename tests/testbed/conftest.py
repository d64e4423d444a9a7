"""One Kubernetes test bed (etcd + kube-apiserver built from source) for the whole test session.

The controller names the bed's directory and hands it to xdist workers; the first process to need
the bed brings it up behind a file lock (building what the cache lacks), the others attach to it,
and the controller tears it down at the end of the session, also after failures.
As root the bed has two nodes (rung 2: controller-manager, scheduler, containerd + kubelet each, in
the bed's own network namespace with kube-proxy and CoreDNS); the session fails if the bed's guard
counted any packet of its ranges leaving the host;
otherwise the API alone, and the tests that need nodes skip saying so.
Opt-out: CCONF_SKIP_TESTBED=1 skips these tests, saying so (for a machine without Go).
"""

import os
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
from filelock import FileLock

from ceph_conformance.host import firstuse
from ceph_conformance.run import new_run_id
from ceph_conformance.testbed import build
from ceph_conformance.testbed.bed import DEFAULT_ROOT, TestBed, sweep_dead_beds
from ceph_conformance.testbed.network import guard_packets

SKIP_ENV = "CCONF_SKIP_TESTBED"
DIR_KEY = "cconf_testbed_dir"
OWNER_KEY = "cconf_testbed_owner"
ROOT = Path(os.environ.get("CCONF_SELFTEST_TESTBED_ROOT", str(DEFAULT_ROOT)))
NODES = 2 if os.geteuid() == 0 else 0  # containerd, runc and the kubelet's cgroups need root


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput:
        config._cconf_testbed_dir = Path(workerinput[DIR_KEY])
        config._cconf_testbed_owner = workerinput[OWNER_KEY]
        return
    config._cconf_testbed_dir = ROOT / f"selftest-{new_run_id()}"
    config._cconf_testbed_owner = os.getpid()  # the controller: it tears the bed down
    if ROOT.exists():
        sweep_dead_beds(ROOT, progress=_printer(config))  # what killed sessions left


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput[DIR_KEY] = str(node.config._cconf_testbed_dir)
    node.workerinput[OWNER_KEY] = node.config._cconf_testbed_owner


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return  # workers leave the bed to the controller
    bed_dir = session.config._cconf_testbed_dir
    if bed_dir.exists():
        bed = TestBed(bed_dir)
        net = bed.network()
        counted = guard_packets(net) if net is not None else 0
        bed.down(progress=_printer(session.config))
        if counted:  # the seal leaked: whatever the tests said, the session fails
            _printer(session.config)(f"FAILED: the guard counted {counted} packets of the bed's ranges going out "
                                     f"of {net.uplink} during the session")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    Path(f"{bed_dir}.lock").unlink(missing_ok=True)


def _printer(config):
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(message):
        # Past pytest's capture, as live logging does: the bed is built and brought up in a fixture.
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            if reporter is not None and not hasattr(config, "workerinput"):
                reporter.ensure_newline()
                reporter.write_line(f"[testbed] {message}")
            else:
                print(f"[testbed] {message}", file=sys.__stderr__, flush=True)
    return say


@pytest.fixture(scope="session")
def testbed(request):
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the Kubernetes test bed is not brought up (unset it to build and run it)")
    bed_dir = request.config._cconf_testbed_dir
    bed_dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    bed = TestBed(bed_dir)
    with FileLock(f"{bed_dir}.lock"):
        if not bed.is_up():
            say = _printer(request.config)
            todo = build.missing(build.API_BINARIES + (build.NODE_BINARIES if NODES else ()))
            # The first use builds Kubernetes from its Go modules: one line when it begins, one at the end.
            with firstuse.step("building the test bed's Kubernetes from its Go modules", "about 9 min",
                               "built the test bed's Kubernetes", say) if todo else nullcontext():
                bed.up(progress=say, nodes=NODES, owner_pid=request.config._cconf_testbed_owner)
    return bed


@pytest.fixture(scope="session")
def bed_nodes(testbed):
    """The names of the bed's nodes; skips when the bed has none (not root)."""
    names = [n["name"] for n in testbed.state().get("nodes", [])]
    if not names:
        pytest.skip("the test bed has no nodes: containerd and the kubelet need root")
    return names


@pytest.fixture(scope="session")
def kube_api(testbed):
    from ceph_conformance.testbed.apply import api_client

    api = api_client(testbed.kubeconfig)
    yield api
    api.close()
