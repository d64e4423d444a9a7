"""A write-back cache that lies about flushes: a FUSE file in front of a volume's image file that
keeps every write in memory, answers fsync and flush at once without writing anything through,
and writes a block back only seconds later (or when the file is closed cleanly), as a volatile
write cache would. A crash (SIGKILL) loses the last seconds of writes, flushed or not.
Test-only: it stands for a storage layer that ignores flushes, which the block crash check must
catch.

    python lying_cache_fs.py BACKING_FILE MOUNTPOINT    # exposes MOUNTPOINT/image
"""

import errno
import os
import stat
import sys
import threading

from fuse import FUSE, FuseOSError, Operations

BLOCK = 4096
AGE_S = 3  # a block is written back between AGE_S and 2 * AGE_S seconds after it was dirtied
RUN_BLOCKS = 256  # contiguous dirty blocks go back in one write of up to 1 MiB


def _runs(blocks):
    """(first index, bytes) for each run of contiguous block indexes in {index: bytes}."""
    out = []
    for i in sorted(blocks):
        if out and out[-1][0] + len(out[-1][1]) == i and len(out[-1][1]) < RUN_BLOCKS:
            out[-1][1].append(blocks[i])
        else:
            out.append((i, [blocks[i]]))
    return [(first, b"".join(parts)) for first, parts in out]


class LyingCache(Operations):
    def __init__(self, backing):
        self.fd = os.open(backing, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.dirty = {}  # block index -> its BLOCK bytes as written, not yet on the backing file
        self.mutex = threading.Lock()  # the cache's state; held briefly, never during a write-back
        self.writing = threading.Lock()  # one write-back at a time (taken before mutex)
        self.aged = set()  # blocks dirty since the last tick: written back at the next
        threading.Thread(target=self._age, daemon=True).start()

    def _age(self):
        # The write-back runs outside the mutex, so the filesystem above is not stalled behind it
        # (a database's flush of 40 MB waited past its 60 s budget when it was). A block dirtied
        # again meanwhile stays dirty, its newer bytes written back later.
        while not threading.Event().wait(AGE_S):
            with self.writing:
                with self.mutex:
                    due = {i: self.dirty[i] for i in self.aged & self.dirty.keys()}
                for first, data in _runs(due):
                    os.pwrite(self.fd, data, first * BLOCK)
                with self.mutex:
                    for i, block in due.items():
                        if self.dirty.get(i) is block:
                            del self.dirty[i]
                    self.aged = set(self.dirty)

    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
        if path == "/image":
            return {"st_mode": stat.S_IFREG | 0o600, "st_nlink": 1, "st_size": self.size}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "image"]

    def open(self, path, flags):
        return 0

    def _block(self, i):
        return self.dirty.get(i) or os.pread(self.fd, BLOCK, i * BLOCK).ljust(BLOCK, b"\0")

    def read(self, path, size, offset, fh):
        with self.mutex:
            out, pos, end = bytearray(), offset, min(offset + size, self.size)
            while pos < end:
                i, o = divmod(pos, BLOCK)
                n = min(BLOCK - o, end - pos)
                out += self._block(i)[o:o + n]
                pos += n
            return bytes(out)

    def write(self, path, data, offset, fh):
        with self.mutex:
            pos = 0
            while pos < len(data):
                i, o = divmod(offset + pos, BLOCK)
                n = min(BLOCK - o, len(data) - pos)
                block = bytearray(self._block(i))
                block[o:o + n] = data[pos:pos + n]
                self.dirty[i] = bytes(block)
                pos += n
            return len(data)

    def fsync(self, path, datasync, fh):
        return 0  # the lie: "durable", and nothing was written

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        self._write_back()  # a clean close: the cache does write back
        return 0

    def destroy(self, path):
        self._write_back()

    def _write_back(self):
        with self.writing, self.mutex:
            for first, data in _runs(self.dirty):
                os.pwrite(self.fd, data, first * BLOCK)
            os.fsync(self.fd)
            self.dirty.clear()


if __name__ == "__main__":
    backing, mountpoint = sys.argv[1:3]
    FUSE(LyingCache(backing), mountpoint, foreground=True, big_writes=True, max_write=131072)
