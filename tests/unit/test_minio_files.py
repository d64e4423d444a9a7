"""Recovering an object's bytes from MinIO's single-drive files (clients/minio_files.py), on files
laid out as MinIO's streaming bitrot writer lays them: a 32-byte hash before each 1 MiB block."""

import os

import pytest

from ceph_conformance.clients import minio_files as mf

UUID = "0f2b9a7e-3c41-4d2e-9a55-1b2c3d4e5f60"


def _stored(data):
    out = b""
    for at in range(0, len(data), mf.SHARD_SIZE):
        block = data[at:at + mf.SHARD_SIZE]
        out += os.urandom(mf.HASH_SIZE) + block
    return out


@pytest.mark.parametrize("size", [1, mf.SHARD_SIZE - 1, mf.SHARD_SIZE, mf.SHARD_SIZE + 1, 5 * mf.SHARD_SIZE + 7])
def test_block_hashes_come_out_and_the_data_stays(size):
    data = os.urandom(size)
    stored = _stored(data)
    assert len(stored) == mf.stored_size(size)
    assert mf.strip_block_hashes(stored) == data


def test_a_truncated_part_file_is_named_as_such():
    stored = _stored(os.urandom(mf.SHARD_SIZE))
    with pytest.raises(mf.LayoutError, match="a block hash with no data after it"):
        mf.strip_block_hashes(stored[:20])
    # Cut inside a block: the data comes out short, which the check compares against what was written.
    assert len(mf.strip_block_hashes(stored[:-10])) == mf.SHARD_SIZE - 10


def test_part_files_in_part_order_and_not_the_metadata():
    files = ["xl.meta", f"{UUID}/part.10", f"{UUID}/part.2", f"{UUID}/part.1"]
    assert mf.part_files(files) == [f"{UUID}/part.1", f"{UUID}/part.2", f"{UUID}/part.10"]
    assert mf.part_files(["xl.meta"]) == []


def test_parts_in_two_data_directories_are_refused():
    other = UUID.replace("0f", "aa", 1)
    with pytest.raises(mf.LayoutError, match="more than one data directory"):
        mf.part_files([f"{UUID}/part.1", f"{other}/part.1"])
