"""Make a suite run's RBD image hold other data than its database wrote, underneath it.

Used between two checks of a running suite: pages of the table conformance.data are written
straight into the image's RADOS objects (`rados put --offset`), past the mounted filesystem,
the loop device, rbd-fuse and the running MariaDB. The pages are InnoDB's own, an earlier
version of them with valid checksums, so only the rows differ: a re-read through a fresh
client path sees them, the server's buffer pool does not.
"""

import os
import re
import subprocess

import pymysql

PAGE = 16 * 1024  # InnoDB's default page size
TABLE = "conformance.data"


def _one(paths, what):
    found = list(paths)
    assert len(found) == 1, f"expected one {what}, found {found}"
    return found[0]


def _flush(cur):
    cur.execute(f"FLUSH TABLES {TABLE} FOR EXPORT")  # its dirty pages go to the volume
    cur.execute("UNLOCK TABLES")


def _read_uncached(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return b"".join(iter(lambda: os.read(fd, 1 << 22), b""))
    finally:
        os.close(fd)


def _extents(path):
    """[(first logical block, last logical block, first physical block)], and the block size."""
    out = subprocess.run(["filefrag", "-v", str(path)], capture_output=True, text=True, check=True).stdout
    block = int(re.search(r"of (\d+) bytes", out).group(1))
    extents = [tuple(int(g) for g in m.groups()) for m in
               re.finditer(r"^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*(\d+)\.\.\s*\d+:", out, re.M)]
    return extents, block


def rows_of(cur, ids):
    cur.execute(f"SELECT id, payload FROM {TABLE} WHERE id IN ({', '.join(map(str, ids))}) ORDER BY id")
    return cur.fetchall()


def write_stale_rows(ceph, run_dir, work_dir, pool="rbd", ids=range(8)):
    """Leave the rows `ids` reversed on the image of the suite's database, while its server keeps
    serving them unchanged. Returns the image spec."""
    ibd = _one(run_dir.glob("clients/block-*/*/fs/mysql/conformance/data.ibd"), "data file of the block checks")
    socket = _one(run_dir.glob("clients/block-*/db-*/mysqld.sock"), "MariaDB socket of the block checks")
    spec = f"{pool}/{ibd.parents[3].name}"
    where = ", ".join(map(str, ids))
    conn = pymysql.connect(unix_socket=str(socket), user="root", autocommit=True)
    try:
        with conn.cursor() as cur:
            rows_before = rows_of(cur, ids)
            _flush(cur)
            current = _read_uncached(ibd)
            cur.execute(f"UPDATE {TABLE} SET payload = REVERSE(payload) WHERE id IN ({where})")
            _flush(cur)
            reversed_ = _read_uncached(ibd)
            cur.execute(f"UPDATE {TABLE} SET payload = REVERSE(payload) WHERE id IN ({where})")
            _flush(cur)
            pages = [p for p in range(len(current) // PAGE)
                     if reversed_[p * PAGE:(p + 1) * PAGE] != current[p * PAGE:(p + 1) * PAGE]]
            assert pages, "reversing rows changed no page of the data file"

            info = ceph.tool_json("rbd", "info", spec)
            extents, block = _extents(ibd)
            for page in pages:
                for logical in range(page * PAGE // block, (page + 1) * PAGE // block):
                    lo, _, physical = next(e for e in extents if e[0] <= logical <= e[1])
                    offset = (physical + logical - lo) * block
                    chunk = work_dir / "block.bin"
                    chunk.write_bytes(reversed_[logical * block:(logical + 1) * block])
                    obj = f"{info['block_name_prefix']}.{offset // info['object_size']:016x}"
                    ceph.tool("rados", "-p", pool, "put", obj, str(chunk), "--offset",
                              str(offset % info["object_size"]))
            # The server's buffer pool still has the rows as they were: only a fresh read can tell.
            assert rows_of(cur, ids) == rows_before, "the running server already sees the stale rows"
    finally:
        conn.close()
    return spec
