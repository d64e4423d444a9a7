"""MinIO keeps its buckets on CephFS: what it stores through one client is there, byte for byte,
for another client, and a MinIO started on that other client serves all of it.

The target runs one MinIO server (dataplane/minio.py) on a directory of the shared CephFS
directory as client A sees it. MinIO (since RELEASE.2022-10-29) stores each object as a directory
<bucket>/<key>/ with xl.meta and, past a small size, part files whose blocks carry bitrot hashes
(clients/minio_files.py): so client B reads those files and recovers the object's bytes from them
without MinIO, and a file written through client B (an object's files copied to a new key) is
served by MinIO through client A. Then MinIO stops and starts on client B's mount of the same
directory, and must serve every object with the bytes written. Every S3 operation is bounded by
--op-timeout, every check by --io-timeout.
"""

import json
import textwrap
from dataclasses import dataclass, field

import botocore.exceptions
import pytest

from ceph_conformance.bounded import bounded
from ceph_conformance.clients import minio_files
from ceph_conformance.clients.s3 import describe_unreachable, error_code, make_client
from ceph_conformance.errors import SetupError, Unsupported
from ceph_conformance.payload import MiB, Timer, difference, random_bytes, sha256

pytestmark = pytest.mark.sharedfs

PART = 5 * MiB  # S3's smallest part but the last
DATA_DIR = "minio"  # MinIO's drive, in the module's shared directory

# Run on a filesystem client: the files under a directory, with their sizes (paths relative to it).
LIST_FILES = textwrap.dedent("""\
    import json, os, sys
    root = sys.argv[1]
    found = []
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            found.append([os.path.relpath(path, root), os.path.getsize(path)])
    print(json.dumps(sorted(found)))
""")


@dataclass
class MinioOnCephFS:
    server: object  # dataplane.minio.MinioServer
    a: object  # the FilesystemClient MinIO first serves through
    b: object  # the other one
    bucket: str
    op_timeout: float
    client_bound: float
    objects: dict = field(default_factory=dict, repr=False)  # key -> the bytes written through S3

    def s3(self):
        return make_client(self.server.url, self.server.credentials, op_timeout=self.op_timeout)


@pytest.fixture(scope="module")
def minio(fs_clients, namer, run_context):
    """One MinIO on the module's shared directory, through client A, with one bucket made."""
    try:
        server = fs_clients.fs.minio(fs_clients.a, DATA_DIR)
    except Unsupported as exc:
        pytest.skip(str(exc))
    io_bound = run_context.options.io_timeout
    bounded(lambda: fs_clients.a.mkdir(DATA_DIR), what=f"mkdir {DATA_DIR} on CephFS", timeout=io_bound)
    try:
        server.start()
    except SetupError as exc:
        pytest.fail(f"MinIO did not start on CephFS: {exc}", pytrace=False)
    m = MinioOnCephFS(server, fs_clients.a, fs_clients.b, namer("minio"), run_context.options.op_timeout,
                      client_bound=0.8 * io_bound)
    try:
        _s3_call(m, "create the bucket", lambda s3: s3.create_bucket(Bucket=m.bucket))
        yield m
    finally:
        server.stop()


def _s3_call(m, what, call, who=None):
    """call(s3 client of the server) with a failure that says what MinIO (or its absence) answered."""
    __tracebackhide__ = True
    who = who or f"MinIO on {m.server.client_name}"
    try:
        return call(m.s3())
    except botocore.exceptions.ClientError as exc:
        code, status = error_code(exc)
        raise AssertionError(f"{who} refused to {what}: {code} (HTTP {status}): "
                             f"{exc.response.get('Error', {}).get('Message', '')}") from None
    except (botocore.exceptions.BotoCoreError, OSError) as exc:  # a body cut short: ResponseStreamingError
        raise AssertionError(f"{who} could not {what}: {describe_unreachable(exc) or exc}") from None


def _written(m):
    """The module's objects, written through MinIO's S3 API once (by whichever check needs them
    first): a small one (inline in xl.meta), a 1 MiB one in a nested key, and a multipart one."""
    if m.objects:
        return m.objects
    small, medium = random_bytes(4096), random_bytes(MiB + 123)
    parts = [random_bytes(PART), random_bytes(PART), random_bytes(3 * MiB + 7)]

    def put(s3):
        s3.put_object(Bucket=m.bucket, Key="small.txt", Body=small)
        s3.put_object(Bucket=m.bucket, Key="docs/nested/medium.bin", Body=medium)
        upload = s3.create_multipart_upload(Bucket=m.bucket, Key="multipart.bin")["UploadId"]
        done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=m.bucket, Key="multipart.bin", UploadId=upload,
                                                          PartNumber=n, Body=body)["ETag"]}
                for n, body in enumerate(parts, 1)]
        s3.complete_multipart_upload(Bucket=m.bucket, Key="multipart.bin", UploadId=upload,
                                     MultipartUpload={"Parts": done})

    _s3_call(m, "store the objects", put)
    m.objects.update({"small.txt": small, "docs/nested/medium.bin": medium, "multipart.bin": b"".join(parts)})
    return m.objects


def _files_of(client, m, key):
    """{path: size} of the files under the object's directory, as client sees them."""
    where = f"{DATA_DIR}/{m.bucket}/{key}"
    result = client.run(["python3", "-c", LIST_FILES, where], timeout=m.client_bound)
    assert result.returncode == 0, f"listing {where} on {client.name} failed: {result.output.strip()[-300:]}"
    return dict(json.loads(result.output))


def _bytes_from_files(client, m, key):
    """The object's bytes recovered from its files as client reads them (no MinIO involved)."""
    where = f"{DATA_DIR}/{m.bucket}/{key}"
    files = _files_of(client, m, key)
    assert minio_files.XL_META in files, (f"{client.name} sees no {where}/xl.meta for the object MinIO stored "
                                          f"through the other client; files there: {sorted(files) or 'none'}")
    meta = client.read(f"{where}/{minio_files.XL_META}", uncached=True)
    assert meta.startswith(minio_files.XL_MAGIC), f"{where}/xl.meta on {client.name} is not MinIO's metadata"
    parts = minio_files.part_files(files)
    if not parts:
        return meta, None  # inline: the data stands inside xl.meta
    data = b""
    for part in parts:
        stored = client.read(f"{where}/{part}", uncached=True)
        try:
            data += minio_files.strip_block_hashes(stored)
        except minio_files.LayoutError as exc:
            raise AssertionError(f"{where}/{part} as {client.name} reads it: {exc}") from None
    return meta, data


def test_objects_stored_through_minio_are_files_the_other_client_reads(minio, record_metric):
    """Client B reads the files of objects stored through MinIO and recovers their bytes."""
    with Timer() as put:
        objects = _written(minio)
    record_metric("minio_put_on_cephfs", put.mb_per_s(sum(map(len, objects.values()))), "MB/s")
    for key, body in objects.items():
        meta, data = _bytes_from_files(minio.b, minio, key)
        if data is None:
            assert body in meta, (f"{key}: {len(body)} bytes written through MinIO on {minio.a.name} are not in "
                                  f"its xl.meta ({len(meta)} bytes) as {minio.b.name} reads it")
            continue
        wrong = difference(data, body)
        assert not wrong, (f"{key}: the part files {minio.b.name} reads hold other data than was written "
                           f"through MinIO on {minio.a.name}: {wrong}")


def test_minio_serves_an_object_whose_files_the_other_client_wrote(minio):
    """Client B copies an object's files (xl.meta, part files) to a new key's directory; MinIO,
    reading through client A, serves that key with the object's bytes."""
    objects = _written(minio)
    source, copy = "multipart.bin", "written-on-b/copy.bin"
    files = _files_of(minio.b, minio, source)
    src, dst = f"{DATA_DIR}/{minio.bucket}/{source}", f"{DATA_DIR}/{minio.bucket}/{copy}"
    for directory in sorted({dst} | {f"{dst}/{p.rsplit('/', 1)[0]}" for p in files if "/" in p}):
        minio.b.mkdir(directory, parents=True)
    for path in sorted(files):
        minio.b.write(f"{dst}/{path}", minio.b.read(f"{src}/{path}"))
    got = _s3_call(minio, f"GET {copy}, whose files {minio.b.name} wrote",
                   lambda s3: s3.get_object(Bucket=minio.bucket, Key=copy)["Body"].read())
    wrong = difference(got, objects[source])
    assert not wrong, f"MinIO on {minio.a.name} served other bytes for {copy}, written on {minio.b.name}: {wrong}"
    minio.objects[copy] = objects[source]


def test_minio_restarted_on_the_other_client_serves_every_object(minio, record_metric):
    """MinIO restarted on client B's mount lists and serves every object with its bytes."""
    objects = dict(_written(minio))
    first = minio.server.client_name
    with Timer() as restart:
        try:
            minio.server.move_to(minio.b)
            minio.server.start()
        except SetupError as exc:
            raise AssertionError(f"MinIO did not start again on {minio.b.name}'s mount of its data: {exc}") from None
    record_metric("minio_restart_on_other_client", restart.seconds, "s")
    who = f"MinIO restarted on {minio.b.name}"
    listed = _s3_call(minio, "list the bucket", who=who, call=lambda s3: sorted(
        o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=minio.bucket)
        for o in page.get("Contents", [])))
    assert set(objects) <= set(listed), (f"MinIO restarted on {minio.b.name} lists {listed}; missing what it "
                                         f"stored through {first}: {sorted(set(objects) - set(listed))}")
    with Timer() as get:
        for key, body in objects.items():
            got = _s3_call(minio, f"GET {key} (stored through {first})", who=who,
                           call=lambda s3, key=key: s3.get_object(Bucket=minio.bucket, Key=key)["Body"].read())
            assert sha256(got) == sha256(body), (f"{who} served other bytes for {key} than were stored through "
                                                 f"{first}: {difference(got, body)}")
    record_metric("minio_get_after_restart_on_other_client", get.mb_per_s(sum(map(len, objects.values()))), "MB/s")
