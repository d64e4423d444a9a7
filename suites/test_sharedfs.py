"""Shared filesystem: several CephFS clients see one tree consistently, and apps keep data there.

Every check runs under --io-timeout: I/O that blocks (no MDS, inactive PGs) fails the check with
what Ceph's health says. The clients and the programs they run come from the target
(dataplane/sharedfs.py): mounts on this host, or pods sharing a volume.
"""

import errno
import hashlib
import textwrap
import time

import pytest

from ceph_conformance import fio
from ceph_conformance.clients.web import http_get
from ceph_conformance.payload import MiB, Timer, difference, random_bytes, sha256

pytestmark = pytest.mark.sharedfs


@pytest.mark.smoke
@pytest.mark.parametrize("size", [0, 4096, MiB], ids=["0B", "4KiB", "1MiB"])
def test_file_written_on_one_client_reads_identically_on_the_other(shared, size):
    """What one client writes the other reads byte-identical, both ways."""
    data = random_bytes(size)
    shared.a.write("from-a", data)
    got = shared.b.read("from-a")
    assert sha256(got) == sha256(data), f"client B read {len(got)} bytes that differ from the {size} client A wrote"
    shared.b.write("from-b", data[::-1])
    wrong = difference(shared.a.read("from-b"), data[::-1])
    assert not wrong, f"client A read other data than client B wrote: {wrong}"


@pytest.mark.measures
def test_large_file_crosses_clients_intact(shared, record_metric, fio_profile):
    """A 64 MiB file crosses clients intact; throughput, and fio on the filesystem."""
    size = 64 * MiB
    data = random_bytes(size)
    with Timer() as write:
        shared.a.write("large", data)
    with Timer() as read:
        got = shared.b.read("large", uncached=True)
    assert len(got) == size and sha256(got) == sha256(data), "64 MiB file differs on the other client"
    record_metric("cephfs_write_64MiB", write.mb_per_s(size), "MB/s")
    record_metric("cephfs_read_64MiB_other_client", read.mb_per_s(size), "MB/s")
    # fio on the same filesystem (ceph_conformance/fio.py): written on A, read on B, as here.
    fio_profile(lambda timeout: fio.on_two_clients(shared.a, shared.b, "64M", timeout), "fio_cephfs",
                f"CephFS clients {shared.a.name} and {shared.b.name}")


def test_metadata_changes_are_seen_by_the_other_client(shared):
    """mkdir, rename, chmod, links, unlink and rmdir on one client are seen on the other."""
    a, b = shared.a, shared.b
    a.mkdir("d/e", parents=True)
    a.write("f", b"content")
    a.rename("f", "g")
    a.chmod("g", 0o640)
    a.link("g", "h")
    a.symlink("g", "s")
    assert b.is_dir("d/e"), "nested directory made on A is missing on B"
    assert not b.exists("f"), "B still sees the name A renamed away"
    st = b.stat("g")
    assert oct(st.mode & 0o777) == oct(0o640), f"B sees mode {oct(st.mode & 0o777)}, A set 0o640"
    assert st.nlink == 2 and b.stat("h").ino == st.ino, "hard link made on A is not one inode on B"
    assert b.readlink("s") == "g" and b.read("s") == b"content", "symlink made on A does not resolve on B"
    b.unlink("h")
    b.rmdir("d/e")
    assert not a.exists("h") and not a.exists("d/e"), "A still sees what B removed"
    assert a.stat("g").nlink == 1, "link count on A did not drop after B unlinked"


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


def _run_both(shared, script, args_a, args_b, timeout):
    """Run one program per client at once, each in the shared directory as its client sees it.
    Bounded below the check's own bound, so that a hung client is killed and named here, with
    what it printed, rather than left behind."""
    programs = {tag: client.start(["python3", "-c", script, *map(str, args)])
                for tag, client, args in (("A", shared.a, args_a), ("B", shared.b, args_b))}
    deadline = time.monotonic() + timeout
    results = {}
    try:
        for tag, program in programs.items():
            results[tag] = program.wait(max(0.1, deadline - time.monotonic()))
    except TimeoutError:
        hung = [tag for tag, program in programs.items() if program.running()]
        for program in programs.values():
            program.kill()
        said = "; ".join(f"client {t} printed: {(p.wait(10).output or '').strip()[-300:]!r}"
                         for t, p in programs.items())
        pytest.fail(f"client {' and '.join(hung)} did not finish within {timeout:.0f}s; {said}", pytrace=False)
    for tag, result in results.items():
        assert result.returncode == 0, f"client {tag}'s process failed: {result.output.strip()[-500:]}"


def test_appends_under_fcntl_locks_lose_no_line(shared):
    """Two clients append under fcntl locks: no line lost, torn or duplicated."""
    n = 150
    shared.a.write("log", b"")
    _run_both(shared, _APPENDER, ("log", "A", n), ("log", "B", n), shared.client_bound)
    lines = shared.a.read("log").decode().splitlines()
    expected = {f"{tag} {i:05d} {'x' * 40}" for tag in "AB" for i in range(n)}
    missing, extra = expected - set(lines), [line for line in lines if line not in expected]
    assert not missing and not extra and len(lines) == 2 * n, (
        f"{len(lines)} lines for {2 * n} appends: {len(missing)} lost, {len(extra)} torn or unknown "
        f"(first: {sorted(missing)[:2]} {extra[:2]})")


def test_counter_under_lock_reaches_exact_total(shared):
    """A counter incremented under a lock from both clients ends at the exact total."""
    n = 100
    shared.a.write("counter", b"0")
    _run_both(shared, _COUNTER, ("counter", n), ("counter", n), shared.client_bound)
    total = int(shared.b.read("counter"))
    assert total == 2 * n, f"counter ended at {total} after {2 * n} locked increments from two clients"


# Publishes at least rounds times and for at least seconds: a cluster whose MDS hands a file's caps
# between clients quickly gets more publishes to be caught in the middle of; says how many it made.
_PUBLISHER = textwrap.dedent("""
    import hashlib, os, sys, time
    directory, rounds, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    i, start = 0, time.monotonic()
    while i < rounds or time.monotonic() - start < seconds:
        i += 1
        body = os.urandom(256 * 1024)
        tmp = os.path.join(directory, f".tmp-{i}")
        with open(tmp, "wb") as f:
            f.write(hashlib.sha256(body).hexdigest().encode() + b"\\n" + body)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(directory, "published"))
    print(i)
""")


def test_atomic_publish_is_never_seen_partially(shared):
    """A file written and renamed into place on one client is never seen partially on the other."""
    writer = shared.a.start(["python3", "-c", _PUBLISHER, ".", "12", "3"])
    complete = torn = 0
    deadline = time.monotonic() + 120
    while writer.running() and time.monotonic() < deadline:
        time.sleep(0.02)  # reading flat out makes the clients trade capabilities more than they work
        try:
            data = shared.b.read("published")
        except FileNotFoundError:
            continue
        digest, _, body = data.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() == digest and len(body) == 256 * 1024:
            complete += 1
        else:
            torn += 1
    try:
        result = writer.wait(60)
    except TimeoutError:
        writer.kill()
        pytest.fail(f"the publisher on client A did not finish: {writer.wait(10).output.strip()[-300:]!r}",
                    pytrace=False)
    assert result.returncode == 0, f"publisher failed: {result.output.strip()[-500:]}"
    published = result.output.strip()
    assert torn == 0, (f"client B saw {torn} partial files out of {complete + torn} reads of a file renamed into "
                       f"place {published} times")
    assert complete > 0, f"client B never saw the file published {published} times"


# Writes 1 MiB chunks with fsync until refused; says how far it got and with which errno.
_FILLER = textwrap.dedent("""
    import os, sys
    chunk, written = os.urandom(1 << 20), 0
    try:
        with open(sys.argv[1], "wb") as f:
            for _ in range(int(sys.argv[2])):
                f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
                written += len(chunk)
    except OSError as exc:
        print(written, exc.errno, exc.strerror)
    else:
        print(written, 0, "not refused")
""")


def test_directory_quota_is_enforced_and_lifted(shared):
    """ceph.quota.max_bytes makes writes fail with EDQUOT; lifting it lets them through."""
    quota = 8 * MiB
    shared.a.setxattr(".", "ceph.quota.max_bytes", str(quota).encode())
    assert int(shared.a.getxattr(".", "ceph.quota.max_bytes")) == quota
    # The client enforces the quota with some slack: allow up to 8x.
    result = shared.a.run(["python3", "-c", _FILLER, "filler", "64"], timeout=shared.client_bound)
    assert result.returncode == 0, f"the writer failed: {result.output.strip()[-500:]}"
    written, err, said = result.output.split(maxsplit=2)
    written, err = int(written), int(err)
    assert err != 0, f"wrote {written // MiB} MiB into a directory with an 8 MiB quota"
    assert err == errno.EDQUOT, f"over quota the write failed with errno {err} ({said.strip()}), not EDQUOT"
    shared.a.setxattr(".", "ceph.quota.max_bytes", b"0")  # 0 lifts the quota
    shared.a.unlink("filler")
    shared.a.write("after", random_bytes(16 * MiB))
    assert shared.b.stat("after").size == 16 * MiB


def test_nginx_serves_files_the_other_client_wrote(shared, op_timeout):
    """nginx serves over HTTP files that the other client wrote."""
    pages = {"index.html": b"<h1>served from CephFS</h1>", "blob.bin": random_bytes(2 * MiB)}
    for name, body in pages.items():
        shared.b.write(name, body)
    app = shared.fs.web_app(shared.a, ".")
    app.start()
    try:
        for name, body in pages.items():
            status, got = http_get(f"{app.url}/{name}", timeout=op_timeout)
            assert status == 200, f"nginx answered HTTP {status} for {name}, which client B wrote"
            wrong = difference(got, body)
            assert not wrong, f"nginx served other bytes for {name}: {wrong}"
    finally:
        app.stop()
