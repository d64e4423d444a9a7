"""The program the Rook shared-filesystem clients run in their pods (sharedfs.OPS), and the client's
handling of what it answers, run here as a local process in a directory of this host.

This is not a pod and not CephFS: it proves the operations program and the errno protocol, which
are the same bytes exec'd in a pod; that CephFS behaves is the conformance checks' job on a cluster."""

import errno
import subprocess
import time
from pathlib import Path

import pytest

from ceph_conformance.targets.rook.sharedfs import PodFilesystemClient


class LocalExec:
    """Kube.exec's contract (argv and stdin bytes in; exit status, stdout, stderr out) as a process here."""

    def exec(self, namespace, pod, argv, *, input=None, container=None, timeout=60.0):
        proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def client(tmp_path_factory):
    # /var/tmp: a disk filesystem, where O_DIRECT reads work (tmpfs refuses them)
    base = tmp_path_factory.mktemp("shared", numbered=True)
    return PodFilesystemClient(LocalExec(), "ns", "pod", str(base), timeout=30)


def test_bytes_and_metadata_round_trip(client):
    data = bytes(range(256)) * 1000 + b"tail"
    client.mkdir("d/e", parents=True)
    client.write("d/e/f", data)
    assert client.read("d/e/f") == data
    assert client.stat("d/e/f").size == len(data)
    client.rename("d/e/f", "d/g")
    client.link("d/g", "d/h")
    assert client.stat("d/g").nlink == 2 and client.stat("d/g").ino == client.stat("d/h").ino
    client.symlink("g", "d/s")
    assert client.readlink("d/s") == "g" and client.read("d/s") == data
    client.chmod("d/g", 0o640)
    assert client.stat("d/g").mode & 0o777 == 0o640
    assert client.exists("d") and client.is_dir("d") and not client.is_dir("d/g") and not client.exists("nope")
    sub = client.subdir("d")
    assert sub.read("g") == data
    client.unlink("d/h")
    client.remove_tree("d")
    assert not client.exists("d")


def test_uncached_reads_come_back_whole(client, tmp_path):
    data = b"x" * 10_000 + b"end"
    client.write("f", data)
    try:
        assert client.read("f", uncached=True) == data
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a filesystem here without O_DIRECT; CephFS has it
            raise
        pytest.skip("this host's temporary filesystem refuses O_DIRECT")


def test_errors_come_back_as_the_errno_the_filesystem_said(client):
    with pytest.raises(FileNotFoundError):
        client.read("missing")
    client.mkdir("d")
    client.write("d/f", b"1")
    with pytest.raises(OSError) as err:
        client.rmdir("d")
    assert err.value.errno == errno.ENOTEMPTY
    with pytest.raises(FileExistsError):
        client.mkdir("d")


def test_paths_cannot_leave_the_shared_directory(client):
    for bad in ("../etc/passwd", "/etc/passwd", "a/../../x"):
        with pytest.raises(ValueError, match="relative to the shared directory"):
            client.read(bad)


def test_programs_run_in_the_directory_with_input_and_can_be_killed(client):
    client.write("in.txt", b"hello")
    result = client.run(["python3", "-c", "import sys, os; print(open('in.txt').read(), sys.stdin.read(), "
                         "os.path.basename(os.getcwd()))"], input="from stdin", timeout=30)
    assert result.returncode == 0
    assert result.output.split() == ["hello", "from", "stdin", client.base.rsplit("/", 1)[1]]
    assert client.run(["sh", "-c", "echo oops >&2; exit 7"], timeout=30).returncode == 7
    program = client.start(["sleep", "60"])
    time.sleep(0.5)
    assert program.running()
    with pytest.raises(TimeoutError):
        program.wait(0.2)
    t0 = time.monotonic()
    program.kill()
    assert not program.running() and time.monotonic() - t0 < 10
    assert program.result.returncode == 137  # the shell's report of SIGKILL
    # each program's pid file is gone once it ended, on its own or killed
    assert list(Path("/tmp").glob(f"cconf-program-*-{id(client)}.pid")) == []


def test_the_raw_devices_direct_io_program_writes_and_reads_at_offsets(tmp_path_factory):
    """block.RAW_IO, as the raw device's pod runs it, here on a file of this host's disk."""
    from ceph_conformance.targets.rook import block
    from ceph_conformance.targets.rook.settings import RookSettings

    path = tmp_path_factory.mktemp("raw") / "device"
    path.write_bytes(b"\0" * (1 << 20))
    storage = block.RookBlockStorage(LocalExec(), RookSettings("r"), None, None, timeout=30)
    device = block.RookRawDevice(storage, "pod")
    pattern = bytes(range(256)) * 16  # 4 KiB: O_DIRECT wants aligned sizes and offsets
    try:
        device._io(["write", str(path), str(8192)], input=pattern)
    except OSError as exc:
        if "Invalid argument" in str(exc):
            pytest.skip("this host's temporary filesystem refuses O_DIRECT")
        raise
    assert device._io(["read", str(path), "8192", "4096"]) == pattern
    assert device._io(["read", str(path), "0", "4096"]) == b"\0" * 4096
    with pytest.raises(OSError, match="direct I/O on pod failed"):
        device._io(["read", str(tmp_path_factory.getbasetemp() / "missing"), "0", "4096"])
