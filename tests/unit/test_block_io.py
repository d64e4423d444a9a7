"""Block helpers on real files: the throughput check's integrity verdict, and the fixture's removal
of every volume of the module whatever fails."""

import pytest

from ceph_conformance.payload import MiB, chunks_differ
from ceph_conformance.targets.host_clients.rbd import read_uncached, remove_all, write_sequential


def test_what_is_read_back_unchanged_passes(tmp_path):
    path = tmp_path / "f.bin"
    write_s, written = write_sequential(path, 8 * MiB, chunk=MiB)
    read_s, read = read_uncached(path, chunk=MiB)
    assert write_s > 0 and read_s > 0
    assert len(written) == 8 and len(set(written)) == 8, "each chunk is distinct"
    assert chunks_differ(read, written, chunk=MiB) is None


def test_one_flipped_byte_is_named_by_chunk_and_offset(tmp_path):
    path = tmp_path / "f.bin"
    _, written = write_sequential(path, 8 * MiB, chunk=MiB)
    with open(path, "r+b") as f:
        f.seek(5 * MiB + 123)
        byte = f.read(1)
        f.seek(5 * MiB + 123)
        f.write(bytes([byte[0] ^ 0xFF]))
    _, read = read_uncached(path, chunk=MiB)
    assert chunks_differ(read, written, chunk=MiB) == (
        f"1 of 8 chunks of 1 MiB read back differ from what was written, the first at offset {5 * MiB} (chunk 5)")


def test_swapped_chunks_and_short_files_are_caught(tmp_path):
    path = tmp_path / "f.bin"
    _, written = write_sequential(path, 4 * MiB, chunk=MiB)
    data = path.read_bytes()
    path.write_bytes(data[MiB:2 * MiB] + data[:MiB] + data[2 * MiB:])
    _, read = read_uncached(path, chunk=MiB)
    assert "2 of 4 chunks" in chunks_differ(read, written, chunk=MiB)
    path.write_bytes(data[:3 * MiB])
    _, read = read_uncached(path, chunk=MiB)
    assert chunks_differ(read, written, chunk=MiB) == "3 chunks of 1 MiB read back, 4 written"


class _Volume:
    def __init__(self, spec, removed, error=None):
        self.spec, self.removed, self.error = spec, removed, error

    def remove(self):
        if self.error:
            raise RuntimeError(self.error)
        self.removed.append(self.spec)


def test_every_volume_is_removed_and_every_failure_reported():
    removed = []
    volumes = [_Volume("rbd/a", removed), _Volume("rbd/b", removed, "watchers: [client.4]"),
               _Volume("rbd/a-clone", removed, "busy"), _Volume("rbd/c", removed)]
    failures = remove_all(volumes)
    assert removed == ["rbd/c", "rbd/a"], "newest first, and none skipped after a failure"
    assert failures == ["rbd/a-clone: busy", "rbd/b: watchers: [client.4]"]


@pytest.mark.parametrize("count", [0, 1])
def test_nothing_to_remove_is_no_failure(count):
    removed = []
    assert remove_all([_Volume(f"rbd/{i}", removed) for i in range(count)]) == []
