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
from pathlib import Path

import pytest
from filelock import FileLock

from ceph_conformance.run import new_run_id
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
    if reporter is not None and not hasattr(config, "workerinput"):
        return lambda m: reporter.write_line(f"[testbed] {m}")
    return lambda m: print(f"[testbed] {m}", file=sys.stderr, flush=True)


@pytest.fixture(scope="session")
def testbed(request):
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the Kubernetes test bed is not brought up (unset it to build and run it)")
    bed_dir = request.config._cconf_testbed_dir
    bed_dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    bed = TestBed(bed_dir)
    with FileLock(f"{bed_dir}.lock"):
        if not bed.is_up():
            bed.up(progress=_printer(request.config), nodes=NODES, owner_pid=request.config._cconf_testbed_owner)
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
