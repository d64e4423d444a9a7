"""The sweep removes exactly what belongs to a run directory: real processes, mounts, loop devices."""

import json
import os
import subprocess
import sys

import pytest

from ceph_conformance.host import loopdev, processes
from ceph_conformance.host.sweep import MARKER, remove_tree, stale_runs, sweep_run_dir, write_marker

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="attaching loop devices and mounting needs root")


def _sleeper(tag, marked=True):
    """A process naming tag in its command line; marked: also carrying the run's mark, as every
    process the suite starts does (processes.start)."""
    env = {**os.environ, processes.OWNER_ENV: str(tag)} if marked else None
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", str(tag)], start_new_session=True,
                            env=env)


def test_stale_runs_are_those_whose_owner_is_gone(tmp_path):
    write_marker(tmp_path / "alive", "alive")
    for name, kept in (("crashed", False), ("kept", True)):
        (tmp_path / name).mkdir()
        (tmp_path / name / MARKER).write_text(json.dumps({"pid": 999999999, "create_time": 1.0, "kept": kept}))
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
        assert f"mount {run_dir / 'mnt'} (unmounted)" in removed and f"loop device {device}" in removed
        assert any(f" {ours.pid} (stopped)" in r for r in removed)
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
         "flush=True); time.sleep(300)"], start_new_session=True, stdout=subprocess.PIPE, text=True,
        env={**os.environ, processes.OWNER_ENV: str(tmp_path)})
    try:
        assert stubborn.stdout.readline().strip() == "ready"  # its handler is installed
        assert processes.stop(stubborn.pid, str(tmp_path), timeout=0.5) == "killed"
        stubborn.wait(timeout=5)  # stop() reaped it already (as it does adopted daemons)
        with pytest.raises(ProcessLookupError):
            os.kill(stubborn.pid, 0)
    finally:
        stubborn.kill()
        stubborn.wait()


def test_stop_lets_a_process_that_is_ending_finish_without_a_signal(tmp_path):
    """As rbd-fuse after its mount is gone: signalled while closing, it would leave its image
    watched; given a grace, it ends by itself and is never signalled."""
    signalled = tmp_path / "signalled"
    ending = subprocess.Popen(
        [sys.executable, "-c", "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: "
         f"(pathlib.Path({str(signalled)!r}).touch(), sys.exit(3))); print('ready', flush=True); time.sleep(1)"],
        start_new_session=True, stdout=subprocess.PIPE, text=True,
        env={**os.environ, processes.OWNER_ENV: str(tmp_path)})
    try:
        assert ending.stdout.readline().strip() == "ready"
        assert processes.stop(ending.pid, str(tmp_path), timeout=5, grace=10) == "exited"
        assert not signalled.exists(), "it was signalled instead of ending by itself"
    finally:
        ending.kill()
        ending.wait()


def test_a_reused_pid_is_never_taken_for_the_run(tmp_path):
    stranger = _sleeper(tmp_path / "someone-else")
    try:
        assert not processes.is_alive(stranger.pid, str(tmp_path / "our-run"))
        assert processes.stop(stranger.pid, str(tmp_path / "our-run")) == "gone"
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


@needs_root
def test_viewers_and_the_sweeps_own_parents_survive_a_sweep(tmp_path):
    """A user's `tail -f` on the run's log and the `timeout` that runs the sweep name the run
    directory in their command lines; neither carries the run's mark, so neither is stopped."""
    run_dir = tmp_path / "run"
    (run_dir / "log").mkdir(parents=True)
    (run_dir / "log" / "mon.a.log").write_text("log\n")
    write_marker(run_dir, "run")
    daemon = processes.start([sys.executable, "-c", "import time; time.sleep(300)"], run_dir / "daemon.out",
                             run_dir / "cluster" / "ceph.conf")
    viewer = subprocess.Popen(["tail", "-f", str(run_dir / "log" / "mon.a.log")], stdout=subprocess.DEVNULL,
                              start_new_session=True)
    unmarked = _sleeper(run_dir, marked=False)
    try:
        # The sweep command, run the way a user would: under timeout, whose argv names the run dir.
        sweep = subprocess.run(["timeout", "120", sys.executable, "-m", "ceph_conformance", "sweep", str(run_dir)],
                               capture_output=True, text=True, timeout=150)
        assert sweep.returncode == 0, sweep.stderr + sweep.stdout
        assert f"{daemon} (stopped)" in sweep.stdout, sweep.stdout
        assert not processes.is_alive(daemon, str(run_dir))
        assert viewer.poll() is None, "the sweep stopped a tail -f on the run's log"
        assert unmarked.poll() is None, "the sweep stopped a process that only names the run dir"
    finally:
        for proc in (viewer, unmarked):
            proc.kill()
            proc.wait()
        processes.kill(daemon, str(run_dir))


@needs_root
def test_a_tree_with_a_mount_inside_is_never_removed(tmp_path):
    run_dir = tmp_path / "run"
    mnt = run_dir / "clients" / "mnt"
    mnt.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mnt)], check=True)
    try:
        (mnt / "users-data").write_text("precious")
        left = remove_tree(run_dir)
        assert left == f"left {run_dir}: {mnt} still mounted inside it"
        assert (mnt / "users-data").read_text() == "precious"
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert remove_tree(run_dir) is None and not run_dir.exists()


@needs_root
def test_a_loop_device_that_stays_attached_is_reported_not_claimed_removed(tmp_path):
    image = tmp_path / "disk.img"
    loopdev.create_backing_file(image, 16 * 1024 * 1024)
    device = loopdev.attach(image)
    holder = open(device, "rb")  # an open device is only marked for detach (autoclear): it stays
    try:
        with pytest.raises(loopdev.DetachError, match=f"loop device {device} to detach.*still attached to {image}"):
            loopdev.detach(device, timeout=1)
    finally:
        holder.close()
    loopdev.detach(device)  # closed: autoclear lets it go
    assert loopdev.attached_under(tmp_path) == {}


@needs_root
def test_when_no_loop_device_is_free_one_is_added_and_removed_at_detach(tmp_path, monkeypatch):
    # Taking every free device on a shared host would starve its other users: `losetup --find`
    # alone is made to answer as it does when none is left; the ioctls and losetup are real.
    from ceph_conformance.errors import CommandError

    real_run = loopdev.run

    def no_free_device(argv, **kwargs):
        if argv[:2] == ["losetup", "--find"]:
            raise CommandError(argv, 1, "losetup: cannot find an unused loop device")
        return real_run(argv, **kwargs)

    monkeypatch.setattr(loopdev, "run", no_free_device)
    image = tmp_path / "img"
    loopdev.create_backing_file(image, 16 * 1024 * 1024)
    device = loopdev.attach(image)
    try:
        assert int(device.removeprefix("/dev/loop")) >= loopdev.FIRST_ADDED, device
        assert loopdev.added_by_suite(device) and loopdev.attached_under(tmp_path) == {device: str(image)}
    finally:
        loopdev.detach(device)
    assert not os.path.exists(device), f"{device}, added for the run, is still there after detach"
    assert not loopdev.added_by_suite(device)


@needs_root
def test_a_sweep_removes_a_device_the_run_added_but_did_not_remove(tmp_path):
    image = tmp_path / "img"
    loopdev.create_backing_file(image, 16 * 1024 * 1024)
    device = loopdev._add_device(image, "test")  # a run died after adding it, before attaching
    assert os.path.exists(device)
    removed = sweep_run_dir(tmp_path, remove=False)
    assert f"loop device {device} (added by the run, removed)" in removed, removed
    assert not os.path.exists(device)
