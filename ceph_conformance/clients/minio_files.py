"""What MinIO's single-drive backend keeps on its drive for one object, read as plain files; and
when a MinIO serves.

MinIO (since its "fs" mode was removed in RELEASE.2022-10-29) keeps each object as a directory
named by the key, <bucket>/<key>/, holding xl.meta (the object's metadata). A small object's data
is inline in xl.meta; a larger one's is in <bucket>/<key>/<data-dir uuid>/part.<n>, one file per
uploaded part. Either way the data is stored in MinIO's streaming bitrot format: every shard block
(1 MiB with one data drive) is preceded by its 32-byte HighwayHash-256. So an object's bytes can be
recovered from the files another filesystem client reads, without MinIO: the part files in order,
each with its block hashes taken out; an inline object's bytes stand whole inside xl.meta.
"""

import re

from .web import http_get

XL_META = "xl.meta"
XL_MAGIC = b"XL2 "
HASH_SIZE = 32  # HighwayHash-256 before each block
SHARD_SIZE = 1024 * 1024  # MinIO's 1 MiB erasure block over one data drive
_PART = re.compile(r"^[0-9a-f-]{36}/part\.(\d+)$")


class LayoutError(ValueError):
    """The files are not what MinIO's single-drive backend writes for an object."""


def part_files(files):
    """The object's part files in part order, from its directory's files (paths relative to it)."""
    parts = sorted(((int(m.group(1)), f) for f in files if (m := _PART.match(f))), key=lambda p: p[0])
    if len({f.split("/")[0] for _, f in parts}) > 1:
        raise LayoutError(f"part files in more than one data directory: {[f for _, f in parts]}")
    return [f for _, f in parts]


def strip_block_hashes(stored):
    """One part file's data with the hash before each block taken out."""
    data = bytearray()
    at = 0
    while at < len(stored):
        if len(stored) - at <= HASH_SIZE:
            raise LayoutError(f"{len(stored) - at} bytes at offset {at}: a block hash with no data after it "
                              f"(the file is {len(stored)} bytes)")
        block = stored[at + HASH_SIZE: at + HASH_SIZE + SHARD_SIZE]
        data += block
        at += HASH_SIZE + len(block)
    return bytes(data)


def stored_size(size):
    """The size of a part file holding size bytes of data."""
    blocks = -(-size // SHARD_SIZE)
    return size + blocks * HASH_SIZE


def serving(url):
    """(done, state) of a MinIO at url: ready only once its object layer serves S3. /minio/health/ready
    answers 200 before that, and S3 requests then get 503 XMinioServerNotInitialized (seen on CephFS
    after a restart); an anonymous ListBuckets gets 403 once MinIO serves."""
    status, _ = http_get(url + "/minio/health/cluster", timeout=3)
    if status != 200:
        return False, f"/minio/health/cluster answered HTTP {status}"
    status, body = http_get(url + "/", timeout=3)
    return status != 503, f"S3 answered HTTP {status}: {body[:200].decode(errors='replace')}"
