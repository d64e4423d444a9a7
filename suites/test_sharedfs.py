"""Shared filesystem: several CephFS clients see one tree consistently, and apps keep data there.

Every check runs under --io-timeout: I/O that blocks (no MDS, inactive PGs) fails the check with
what Ceph's health says.
"""

import errno
import os
import subprocess
import sys
import textwrap
import time

import pytest

from ceph_conformance.clients.nginx import Nginx
from ceph_conformance.clients.web import http_get
from ceph_conformance.host.ports import free_port
from ceph_conformance.payload import MiB, Timer, difference, sha256

pytestmark = pytest.mark.sharedfs


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


@pytest.mark.smoke
@pytest.mark.parametrize("size", [0, 4096, MiB], ids=["0B", "4KiB", "1MiB"])
def test_file_written_on_one_client_reads_identically_on_the_other(shared, size):
    data = os.urandom(size)
    _write(shared.a / "from-a", data)
    got = _read(shared.b / "from-a")
    assert sha256(got) == sha256(data), f"client B read {len(got)} bytes that differ from the {size} client A wrote"
    _write(shared.b / "from-b", data[::-1])
    wrong = difference(_read(shared.a / "from-b"), data[::-1])
    assert not wrong, f"client A read other data than client B wrote: {wrong}"


def test_large_file_crosses_clients_intact(shared, record_metric):
    size = 64 * MiB
    data = os.urandom(size)
    with Timer() as write:
        _write(shared.a / "large", data)
    _drop_cache(shared.b / "large")
    with Timer() as read:
        got = _read(shared.b / "large")
    assert len(got) == size and sha256(got) == sha256(data), "64 MiB file differs on the other client"
    record_metric("cephfs_write_64MiB", write.mb_per_s(size), "MB/s")
    record_metric("cephfs_read_64MiB_other_client", read.mb_per_s(size), "MB/s")


def test_metadata_changes_are_seen_by_the_other_client(shared):
    a, b = shared.a, shared.b
    (a / "d" / "e").mkdir(parents=True)
    _write(a / "f", b"content")
    os.rename(a / "f", a / "g")
    os.chmod(a / "g", 0o640)
    os.link(a / "g", a / "h")
    os.symlink("g", a / "s")
    assert (b / "d" / "e").is_dir(), "nested directory made on A is missing on B"
    assert not (b / "f").exists(), "B still sees the name A renamed away"
    st = os.stat(b / "g")
    assert oct(st.st_mode & 0o777) == oct(0o640), f"B sees mode {oct(st.st_mode & 0o777)}, A set 0o640"
    assert st.st_nlink == 2 and os.stat(b / "h").st_ino == st.st_ino, "hard link made on A is not one inode on B"
    assert os.readlink(b / "s") == "g" and _read(b / "s") == b"content", "symlink made on A does not resolve on B"
    os.unlink(b / "h")
    os.rmdir(b / "d" / "e")
    assert not (a / "h").exists() and not (a / "d" / "e").exists(), "A still sees what B removed"
    assert os.stat(a / "g").st_nlink == 1, "link count on A did not drop after B unlinked"


# Run as separate processes, one per mount: real concurrent clients, not threads of one.
# The appender seeks to the end while holding the lock, as on any network filesystem: through
# FUSE, O_APPEND writes at the kernel's cached size and loses lines across clients even under
# the lock (measured: 101 of 200 lines kept), like O_APPEND over NFS.
_APPENDER = textwrap.dedent("""
    import fcntl, os, sys
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    for i in range(n):
        fcntl.lockf(fd, fcntl.LOCK_EX)
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, f"{tag} {i:05d} {'x' * 40}\\n".encode())
        os.fsync(fd)
        fcntl.lockf(fd, fcntl.LOCK_UN)
""")

_COUNTER = textwrap.dedent("""
    import fcntl, os, sys
    path, n = sys.argv[1], int(sys.argv[2])
    fd = os.open(path, os.O_RDWR)
    for _ in range(n):
        fcntl.lockf(fd, fcntl.LOCK_EX)
        value = int(os.pread(fd, 32, 0).decode() or 0)
        data = str(value + 1).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        fcntl.lockf(fd, fcntl.LOCK_UN)
""")


def _run_both(script, args_a, args_b, timeout):
    """Run one program per client at once. Bounded below the check's own bound, so that a hung
    client is killed and named here, with what it printed, rather than left behind."""
    procs = {tag: subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
             for tag, args in (("A", args_a), ("B", args_b))}
    deadline = time.monotonic() + timeout
    printed = {}
    try:
        for tag, p in procs.items():
            printed[tag], _ = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        hung = [tag for tag, p in procs.items() if p.poll() is None]
        for p in procs.values():
            p.kill()
        for tag, p in procs.items():
            try:
                printed[tag], _ = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:  # stuck in the kernel on the filesystem: say so
                printed.setdefault(tag, "(no output: the process did not die within 10s of SIGKILL)")
        said = "; ".join(f"client {t} printed: {(printed.get(t) or '').strip()[-300:]!r}" for t in procs)
        pytest.fail(f"client {' and '.join(hung)} did not finish within {timeout:.0f}s; {said}", pytrace=False)
    for tag, p in procs.items():
        assert p.returncode == 0, f"client {tag}'s process failed: {printed[tag].strip()[-500:]}"


def test_appends_under_fcntl_locks_lose_no_line(shared):
    n = 150
    _write(shared.a / "log", b"")
    _run_both(_APPENDER, (shared.a / "log", "A", n), (shared.b / "log", "B", n), shared.client_bound)
    lines = _read(shared.a / "log").decode().splitlines()
    expected = {f"{tag} {i:05d} {'x' * 40}" for tag in "AB" for i in range(n)}
    missing, extra = expected - set(lines), [line for line in lines if line not in expected]
    assert not missing and not extra and len(lines) == 2 * n, (
        f"{len(lines)} lines for {2 * n} appends: {len(missing)} lost, {len(extra)} torn or unknown "
        f"(first: {sorted(missing)[:2]} {extra[:2]})")


def test_counter_under_lock_reaches_exact_total(shared):
    n = 100
    _write(shared.a / "counter", b"0")
    _run_both(_COUNTER, (shared.a / "counter", n), (shared.b / "counter", n), shared.client_bound)
    total = int(_read(shared.b / "counter"))
    assert total == 2 * n, f"counter ended at {total} after {2 * n} locked increments from two clients"


_PUBLISHER = textwrap.dedent("""
    import hashlib, os, sys
    directory, rounds = sys.argv[1], int(sys.argv[2])
    for i in range(rounds):
        body = os.urandom(256 * 1024)
        tmp = os.path.join(directory, f".tmp-{i}")
        with open(tmp, "wb") as f:
            f.write(hashlib.sha256(body).hexdigest().encode() + b"\\n" + body)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(directory, "published"))
""")


def test_atomic_publish_is_never_seen_partially(shared):
    import hashlib

    writer = subprocess.Popen([sys.executable, "-c", _PUBLISHER, str(shared.a), "12"], stderr=subprocess.PIPE,
                              text=True)
    complete = torn = 0
    deadline = time.monotonic() + 120
    while writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # reading flat out makes the clients trade capabilities more than they work
        try:
            data = _read(shared.b / "published")
        except FileNotFoundError:
            continue
        digest, _, body = data.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() == digest and len(body) == 256 * 1024:
            complete += 1
        else:
            torn += 1
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, f"publisher failed: {err.strip()[-500:]}"
    assert torn == 0, f"client B saw {torn} partial files out of {complete + torn} reads of a file renamed into place"
    assert complete > 0, "client B never saw the published file"


def test_directory_quota_is_enforced_and_lifted(shared):
    quota = 8 * MiB
    os.setxattr(shared.a, "ceph.quota.max_bytes", str(quota).encode())
    assert int(os.getxattr(shared.a, "ceph.quota.max_bytes")) == quota
    written, refused = 0, None
    chunk = os.urandom(MiB)
    try:
        with open(shared.a / "filler", "wb") as f:
            for _ in range(64):  # the client enforces the quota with some slack: allow up to 8x
                f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
                written += len(chunk)
    except OSError as exc:
        refused = exc
    assert refused is not None, f"wrote {written // MiB} MiB into a directory with an 8 MiB quota"
    assert refused.errno == errno.EDQUOT, f"over quota the write failed with {refused!r}, not EDQUOT"
    os.setxattr(shared.a, "ceph.quota.max_bytes", b"0")  # 0 lifts the quota
    os.unlink(shared.a / "filler")
    _write(shared.a / "after", os.urandom(16 * MiB))
    assert os.path.getsize(shared.a / "after") == 16 * MiB


def test_nginx_serves_files_the_other_client_wrote(shared, run_context):
    pages = {"index.html": b"<h1>served from CephFS</h1>", "blob.bin": os.urandom(2 * MiB)}
    for name, body in pages.items():
        _write(shared.b / name, body)
    server = Nginx(shared.a, run_context.run.run_dir / "clients" / f"nginx-{run_context.run.worker}", free_port())
    server.start()
    try:
        for name, body in pages.items():
            status, got = http_get(f"{server.url}/{name}", timeout=60)
            assert status == 200, f"nginx answered HTTP {status} for {name}, which client B wrote"
            wrong = difference(got, body)
            assert not wrong, f"nginx served other bytes for {name}: {wrong}"
    finally:
        server.stop()
