"""The sweep removes exactly what belongs to a run directory: real processes, mounts, loop devices."""

import json
import os
import subprocess
import sys

import pytest

from ceph_conformance.host import loopdev, processes
from ceph_conformance.host.sweep import MARKER, stale_runs, sweep_run_dir, write_marker

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="attaching loop devices and mounting needs root")


def _sleeper(tag):
    # The tag in the command line is how the sweep recognises a run's processes.
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", str(tag)], start_new_session=True)


def test_stale_runs_are_those_whose_owner_is_gone(tmp_path):
    write_marker(tmp_path / "alive", "alive")
    for name, kept in (("crashed", False), ("kept", True)):
        (tmp_path / name).mkdir()
        (tmp_path / name / MARKER).write_text(json.dumps({"pid": 999999999, "start_ticks": 1, "kept": kept}))
    (tmp_path / "not-ours").mkdir()
    assert [p.name for p in stale_runs(tmp_path)] == ["crashed"]
    assert [p.name for p in stale_runs(tmp_path, include_kept=True)] == ["crashed", "kept"]


@needs_root
def test_sweep_removes_processes_mounts_and_loop_devices_of_the_run_only(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "mnt").mkdir(parents=True)
    ours, neighbour = _sleeper(run_dir), _sleeper(tmp_path / "elsewhere")
    image = run_dir / "disk.img"
    loopdev.create_backing_file(image, 64 * 1024 * 1024)
    device = loopdev.attach(image)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(run_dir / "mnt")], check=True)
    try:
        assert processes.is_alive(ours.pid, str(run_dir))
        removed = sweep_run_dir(run_dir)
        assert f"mount {run_dir / 'mnt'}" in removed and f"loop device {device}" in removed
        assert any(r.endswith(f" {ours.pid}") for r in removed)
        assert ours.wait(timeout=10) is not None
        assert not run_dir.exists()
        assert loopdev.attached_under(tmp_path) == {}
        assert neighbour.poll() is None, "the sweep touched a process outside the run"
    finally:
        neighbour.kill()
        neighbour.wait()
        ours.kill()
        ours.wait()
        subprocess.run(["umount", str(run_dir / "mnt")], capture_output=True)
        loopdev.detach(device)


def test_stop_escalates_to_sigkill_within_its_bound(tmp_path):
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', "
         "flush=True); time.sleep(300)", str(tmp_path)], start_new_session=True, stdout=subprocess.PIPE, text=True)
    try:
        assert stubborn.stdout.readline().strip() == "ready"  # its handler is installed
        assert processes.stop(stubborn.pid, str(tmp_path), timeout=0.5) == "killed"
        stubborn.wait(timeout=5)  # stop() reaped it already (as it does adopted daemons)
        with pytest.raises(ProcessLookupError):
            os.kill(stubborn.pid, 0)
    finally:
        stubborn.kill()
        stubborn.wait()


def test_a_reused_pid_is_never_taken_for_the_run(tmp_path):
    stranger = _sleeper(tmp_path / "someone-else")
    try:
        assert not processes.is_alive(stranger.pid, str(tmp_path / "our-run"))
        assert processes.stop(stranger.pid, str(tmp_path / "our-run")) == "gone"
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
