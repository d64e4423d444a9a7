"""Object storage through the S3 tools people use: rclone, s3cmd and the AWS CLI.

Each tool runs on this host as a client outside the cluster, against the run's S3 endpoint with a
temporary user's keys (never on its command line). A check syncs a directory tree it made (many
small files in nested directories, a few large ones that go up in parts), asks the tool for its own
verdict (rclone check, s3cmd's MD5 sync and listing, the AWS CLI's listing of sizes and ETags),
copies between buckets, deletes and lists; every tool's exit status and verdict count, and the
bytes are verified independently as well: listed and downloaded through boto3, their SHA-256
compared with the files'.
"""

import hashlib
import json
import os
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from ceph_conformance.clients.s3_tools import PART_SIZE, s3_etag
from ceph_conformance.payload import MiB, Timer

pytestmark = pytest.mark.object

SMALL_FILES = 200  # 1 to 16 KiB each, in nested directories
LARGE_FILES = 3  # 12 MiB each: 3 parts (5, 5 and 2 MiB) with every tool
LARGE_SIZE = 12 * MiB
COPIED_SMALL_FILES, COPIED_LARGE_FILES = 40, 1  # the tree the copy checks start from
DELETED_DIR = "small/d1/"  # what the copy checks delete from the copy: a directory ...
DELETED_FILE = "large/big-0.bin"  # ... and one large file
ODD_NAMES = ["small/d2/with space.txt", "small/d3/ünïcode-名前.bin"]


@dataclass
class Tree:
    root: str
    files: dict = field(default_factory=dict)  # relative path -> (size, sha256, expected ETag, MD5)

    @property
    def size(self):
        return sum(f[0] for f in self.files.values())

    def path(self, rel):
        return os.path.join(self.root, rel)


def make_tree(root, small, large, seed):
    """small files of 1 to 16 KiB in nested directories (a few with odd names), large files that go
    up in parts; random bytes."""
    t = Tree(root)
    sizes = random.Random(seed)
    odd = ODD_NAMES if small >= 50 else []
    names = [f"small/d{i % 8}/e{i % 3}/f{i:03d}.bin" for i in range(small - len(odd) - 2)]
    names += ["small/d0/e0/deeper/still/f-deep-1.bin", "small/d0/e0/deeper/still/f-deep-2.bin", *odd]
    sized = [(n, sizes.randint(1024, 16 * 1024)) for n in names]
    sized += [(f"large/big-{i}.bin", LARGE_SIZE) for i in range(large)]
    for rel, size in sized:
        path = t.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = os.urandom(size)
        with open(path, "wb") as f:
            f.write(data)
        t.files[rel] = (size, hashlib.sha256(data).hexdigest(), s3_etag(path, PART_SIZE),
                        hashlib.md5(data).hexdigest())
    return t


@pytest.fixture(scope="module")
def tree(s3_tools_module_dir):
    """The directory tree the sync checks upload: many small files, a few large ones."""
    return make_tree(s3_tools_module_dir.join("tree"), SMALL_FILES, LARGE_FILES, seed=15)


@pytest.fixture(scope="module")
def copy_tree(s3_tools_module_dir):
    """A smaller tree the copy checks start from (they move it three times)."""
    return make_tree(s3_tools_module_dir.join("copy-tree"), COPIED_SMALL_FILES, COPIED_LARGE_FILES, seed=16)


@pytest.fixture
def tool_bucket(s3, namer):
    """tool_bucket(): a run-scoped bucket name for a tool to create; the check's S3 workspace removes
    the bucket afterwards, whatever the tool left in it."""
    def name():
        bucket = namer("bkt")
        s3.buckets.append(bucket)
        return bucket

    return name


def listing(client, bucket):
    """{key: object} of a bucket, every page, through boto3."""
    return {o["Key"]: o for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}


def _shown(names, limit=5):
    names = sorted(names)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def key_differences(got, expected):
    """What differs between two key sets, as text ('' when equal)."""
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    out = []
    if missing:
        out.append(f"{len(missing)} missing ({_shown(missing)})")
    if extra:
        out.append(f"{len(extra)} unexpected ({_shown(extra)})")
    return "; ".join(out)


def verify_independently(client, bucket, tree, keys=None, etags=True):
    """List the bucket and download every object through boto3 (a client other than the tool's),
    comparing keys, sizes, ETags (etags=False for copies) and SHA-256 with the tree's files.
    Returns what differs as text, or None."""
    expected = {k: tree.files[k] for k in (keys if keys is not None else tree.files)}
    listed = listing(client, bucket)
    problems = []
    if diff := key_differences(listed, expected):
        problems.append(f"keys: {diff}")
    common = sorted(set(listed) & set(expected))
    sized = [f"{k}: {listed[k]['Size']} bytes, not {expected[k][0]}" for k in common
             if listed[k]["Size"] != expected[k][0]]
    if sized:
        problems.append(f"{len(sized)} with the wrong size ({_shown(sized)})")
    if etags:
        tagged = [f"{k}: {listed[k]['ETag']}" for k in common if listed[k]["ETag"].strip('"') != expected[k][2]]
        if tagged:
            problems.append(f"{len(tagged)} with an ETag other than the file's MD5 (or multipart ETag): "
                            f"{_shown(tagged)}")

    def digest(key):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        h = hashlib.sha256()
        while chunk := body.read(MiB):
            h.update(chunk)
        return key, h.hexdigest()

    # The first failed read ends the check: without cancelling the rest, a silent gateway would
    # cost every remaining object its own --op-timeout, in waves of 8.
    pool = ThreadPoolExecutor(8)
    try:
        digests = dict(pool.map(digest, common))
    finally:
        pool.shutdown(cancel_futures=True)
    changed = [k for k in common if digests[k] != expected[k][1]]
    if changed:
        problems.append(f"{len(changed)} of {len(common)} downloaded differ from the files (SHA-256): "
                        f"{_shown(changed)}")
    return "; ".join(problems) or None


def record_sync(record_metric, tool, tree, timer):
    record_metric(f"{tool}_sync_tree_put", timer.mb_per_s(tree.size), "MB/s")
    record_metric(f"{tool}_sync_tree_objects", len(tree.files) / max(timer.seconds, 1e-9), "objects/s")


# rclone -----------------------------------------------------------------------------------------

def rclone_check(rclone, src, dst, *flags):
    """`rclone check` of src against dst: its exit status and its per-file report must both say
    every file matches. Returns the number of files it matched."""
    __tracebackhide__ = True
    report = rclone.path(f"check-{len(rclone.runs)}.txt")
    run = rclone.run("check", src, dst, "--combined", report, *flags, check=False)
    with open(report) if os.path.exists(report) else open(os.devnull) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    # rclone's report: "=" identical, "*" differ, "+" only in src (missing from dst), "-" only in dst.
    kinds = {"*": "differ", "+": f"missing from {dst}", "-": f"only in {dst}", "!": "could not be checked"}
    bad = {kind: [line[2:] for line in lines if line[:1] == sym] for sym, kind in kinds.items()}
    said = "; ".join(f"{len(v)} {k} ({_shown(v)})" for k, v in bad.items() if v)
    what = " ".join(["rclone check", *flags])
    agreed = run.returncode == 0 and not said
    words = f"; rclone said: {run.said}" if run.said else ""
    assert agreed, (
        f"`{what}` of {src} against {dst} reports differences (exit status {run.returncode}): "
        f"{said or 'see its output'}{words}; its output ends: {run.tail}")
    return sum(1 for line in lines if line.startswith("= "))


def test_rclone_sync_tree_and_check_reports_no_differences(s3_tool, s3, tool_bucket, tree, record_metric):
    """rclone sync, then rclone check (sizes, MD5) and check --download (the bytes) find no difference."""
    rclone = s3_tool("rclone")
    bucket = tool_bucket()
    rclone.run("mkdir", rclone.remote(bucket))
    with Timer() as sync:
        rclone.run("sync", tree.root, rclone.remote(bucket))
    record_sync(record_metric, "rclone", tree, sync)
    matched = rclone_check(rclone, tree.root, rclone.remote(bucket))  # sizes and MD5 hashes
    assert matched == len(tree.files), f"rclone check matched {matched} files of {len(tree.files)}"
    with Timer() as download:
        rclone_check(rclone, tree.root, rclone.remote(bucket), "--download")  # the bytes themselves
    record_metric("rclone_check_download_read", download.mb_per_s(tree.size), "MB/s")
    problems = verify_independently(s3.client, bucket, tree)
    assert problems is None, f"after rclone sync, bucket {bucket} listed and read through boto3: {problems}"


def test_rclone_copies_between_buckets_deletes_and_lists(s3_tool, s3, tool_bucket, copy_tree, record_metric):
    """rclone copies a bucket server-side, deletes from the copy and lists exactly what is left."""
    tree = copy_tree
    rclone = s3_tool("rclone")
    src, dst = tool_bucket(), tool_bucket()
    rclone.run("copy", tree.root, rclone.remote(src))
    rclone.run("mkdir", rclone.remote(dst))
    with Timer() as copy:
        rclone.run("copy", rclone.remote(src), rclone.remote(dst))  # server-side copies
    record_metric("rclone_copy_between_buckets", copy.mb_per_s(tree.size), "MB/s")
    rclone_check(rclone, rclone.remote(src), rclone.remote(dst))
    problems = verify_independently(s3.client, dst, tree, etags=False)
    assert problems is None, f"rclone's copy in bucket {dst}, listed and read through boto3: {problems}"

    rclone.run("purge", rclone.remote(dst, DELETED_DIR.rstrip("/")))
    rclone.run("deletefile", rclone.remote(dst, DELETED_FILE))
    kept = sorted(k for k in tree.files if not k.startswith(DELETED_DIR) and k != DELETED_FILE)
    listed = rclone.run("lsf", "-R", "--files-only", rclone.remote(dst)).stdout.splitlines()
    diff = key_differences(listed, kept)
    assert not diff, f"rclone lsf of {dst} after deleting {DELETED_DIR} and {DELETED_FILE}: {diff}"
    diff = key_differences(listing(s3.client, dst), kept)
    assert not diff, f"after rclone's deletes, boto3 lists {dst} with keys {diff}"
    diff = key_differences(rclone.run("lsf", "-R", "--files-only", rclone.remote(src)).stdout.splitlines(), tree.files)
    assert not diff, f"deleting in {dst} changed {src}: {diff}"

    rclone.run("purge", rclone.remote(dst))
    buckets = [b.rstrip("/") for b in rclone.run("lsf", f"{rclone.REMOTE}:").stdout.splitlines()]
    assert dst not in buckets and src in buckets, f"after rclone purge of {dst} the user's buckets are {buckets}"


# s3cmd ------------------------------------------------------------------------------------------

def s3cmd_md5_listing(s3cmd, bucket):
    """{key: (size, md5)} from `s3cmd ls --recursive --list-md5`."""
    out = {}
    prefix = f"s3://{bucket}/"
    for line in s3cmd.run("ls", "--recursive", "--list-md5", prefix).stdout.splitlines():
        fields = line.split(None, 4)
        if len(fields) == 5 and fields[4].startswith(prefix):
            out[fields[4][len(prefix):]] = (int(fields[2]), fields[3])
    return out


def s3cmd_nothing_to_sync(s3cmd, src, dst):
    """s3cmd's own verdict: a dry-run `sync --check-md5` finds nothing to transfer or delete."""
    __tracebackhide__ = True
    run = s3cmd.run("sync", "--dry-run", "--check-md5", "--delete-removed", src, dst)
    pending = [line for line in run.stdout.splitlines() if line.split(":", 1)[0] in ("upload", "remote copy",
                                                                                     "delete", "download")]
    assert not pending, (f"after s3cmd sync, `s3cmd sync --dry-run --check-md5` from {src} to {dst} would still "
                         f"transfer {len(pending)}: {_shown(pending, 3)}")


def test_s3cmd_sync_tree_and_md5_listing_matches_the_files(s3_tool, s3, tool_bucket, tree, record_metric):
    """s3cmd sync --check-md5; a dry-run sync finds nothing left; ls --list-md5 matches every file."""
    s3cmd = s3_tool("s3cmd")
    bucket = tool_bucket()
    s3cmd.run("mb", f"s3://{bucket}")
    with Timer() as sync:
        s3cmd.run("sync", "--check-md5", tree.root + "/", f"s3://{bucket}/")
    record_sync(record_metric, "s3cmd", tree, sync)
    s3cmd_nothing_to_sync(s3cmd, tree.root + "/", f"s3://{bucket}/")
    listed = s3cmd_md5_listing(s3cmd, bucket)
    diff = key_differences(listed, tree.files)
    assert not diff, f"s3cmd ls of {bucket} after s3cmd sync: {diff}"
    wrong = [f"{k}: {listed[k][0]} bytes, MD5 {listed[k][1]}" for k in sorted(listed)
             if listed[k] != (tree.files[k][0], tree.files[k][3])]
    # For a multipart upload s3cmd lists the MD5 of the whole file it stored with the object.
    assert not wrong, f"s3cmd ls --list-md5 of {bucket} disagrees with the files' sizes and MD5s: {_shown(wrong)}"
    problems = verify_independently(s3.client, bucket, tree)
    assert problems is None, f"after s3cmd sync, bucket {bucket} listed and read through boto3: {problems}"


def test_s3cmd_copies_between_buckets_deletes_and_lists(s3_tool, s3, tool_bucket, copy_tree, record_metric):
    """s3cmd copies a bucket server-side, deletes from the copy and lists exactly what is left."""
    tree = copy_tree
    s3cmd = s3_tool("s3cmd")
    src, dst = tool_bucket(), tool_bucket()
    for b in (src, dst):
        s3cmd.run("mb", f"s3://{b}")
    s3cmd.run("sync", tree.root + "/", f"s3://{src}/")
    with Timer() as copy:
        s3cmd.run("cp", "--recursive", f"s3://{src}/", f"s3://{dst}/")  # server-side copies
    record_metric("s3cmd_copy_between_buckets", copy.mb_per_s(tree.size), "MB/s")
    s3cmd_nothing_to_sync(s3cmd, f"s3://{src}/", f"s3://{dst}/")
    copied = s3cmd_md5_listing(s3cmd, dst)
    sizes = {k: v[0] for k, v in copied.items()}
    assert sizes == {k: v[0] for k, v in tree.files.items()}, (
        f"s3cmd ls of the copy {dst}: {key_differences(copied, tree.files) or 'sizes differ from the files'}")
    problems = verify_independently(s3.client, dst, tree, etags=False)
    assert problems is None, f"s3cmd's copy in bucket {dst}, listed and read through boto3: {problems}"

    s3cmd.run("del", "--recursive", f"s3://{dst}/{DELETED_DIR}")
    s3cmd.run("del", f"s3://{dst}/{DELETED_FILE}")
    kept = sorted(k for k in tree.files if not k.startswith(DELETED_DIR) and k != DELETED_FILE)
    diff = key_differences(s3cmd_md5_listing(s3cmd, dst), kept)
    assert not diff, f"s3cmd ls of {dst} after deleting {DELETED_DIR} and {DELETED_FILE}: {diff}"
    diff = key_differences(listing(s3.client, dst), kept)
    assert not diff, f"after s3cmd's deletes, boto3 lists {dst} with keys {diff}"
    diff = key_differences(s3cmd_md5_listing(s3cmd, src), tree.files)
    assert not diff, f"deleting in {dst} changed {src}: {diff}"

    s3cmd.run("rb", "--recursive", "--force", f"s3://{dst}")
    buckets = [line.split()[-1] for line in s3cmd.run("ls").stdout.splitlines() if line.strip()]
    assert f"s3://{dst}" not in buckets and f"s3://{src}" in buckets, (
        f"after s3cmd rb of {dst} the user's buckets are {buckets}")


# AWS CLI ----------------------------------------------------------------------------------------

def aws_listing(aws, bucket):
    """{key: object} from `aws s3api list-objects-v2` (the CLI follows every page)."""
    out = json.loads(aws.run("s3api", "list-objects-v2", "--bucket", bucket, "--output", "json").stdout or "{}")
    return {o["Key"]: o for o in out.get("Contents", [])}


def aws_nothing_to_sync(aws, src, dst):
    __tracebackhide__ = True
    run = aws.run("s3", "sync", "--dryrun", "--delete", src, dst)
    pending = [line for line in run.stdout.splitlines() if line.startswith("(dryrun)")]
    assert not pending, (f"after aws s3 sync, `aws s3 sync --dryrun` from {src} to {dst} would still transfer "
                         f"{len(pending)}: {_shown(pending, 3)}")


def test_aws_cli_sync_tree_and_listing_sizes_and_etags_match(s3_tool, s3, tool_bucket, tree, record_metric):
    """aws s3 sync; a dry run finds nothing left; list-objects-v2 gives every size and ETag."""
    aws = s3_tool("aws")
    bucket = tool_bucket()
    aws.run("s3", "mb", f"s3://{bucket}")
    with Timer() as sync:
        aws.run("s3", "sync", "--only-show-errors", tree.root, f"s3://{bucket}")
    record_sync(record_metric, "aws", tree, sync)
    aws_nothing_to_sync(aws, tree.root, f"s3://{bucket}")
    listed = aws_listing(aws, bucket)
    diff = key_differences(listed, tree.files)
    assert not diff, f"aws s3api list-objects-v2 of {bucket} after aws s3 sync: {diff}"
    wrong = [f"{k}: {listed[k]['Size']} bytes, ETag {listed[k]['ETag']}" for k in sorted(listed)
             if (listed[k]["Size"], listed[k]["ETag"].strip('"')) != (tree.files[k][0], tree.files[k][2])]
    assert not wrong, f"aws s3api lists {bucket} with sizes or ETags other than the files' (MD5 or multipart " \
                      f"ETag): {_shown(wrong)}"
    problems = verify_independently(s3.client, bucket, tree)
    assert problems is None, f"after aws s3 sync, bucket {bucket} listed and read through boto3: {problems}"


def test_aws_cli_copies_between_buckets_deletes_and_lists(s3_tool, s3, tool_bucket, copy_tree, record_metric):
    """The AWS CLI copies a bucket server-side, deletes from the copy and lists exactly what is left."""
    tree = copy_tree
    aws = s3_tool("aws")
    src, dst = tool_bucket(), tool_bucket()
    for b in (src, dst):
        aws.run("s3", "mb", f"s3://{b}")
    aws.run("s3", "sync", "--only-show-errors", tree.root, f"s3://{src}")
    with Timer() as copy:
        aws.run("s3", "sync", "--only-show-errors", f"s3://{src}", f"s3://{dst}")  # server-side (part) copies
    record_metric("aws_copy_between_buckets", copy.mb_per_s(tree.size), "MB/s")
    aws_nothing_to_sync(aws, f"s3://{src}", f"s3://{dst}")
    a, b = aws_listing(aws, src), aws_listing(aws, dst)
    wrong = [k for k in a if k not in b or b[k]["Size"] != a[k]["Size"]]
    assert not wrong and set(a) == set(b), (
        f"aws s3api lists the copy {dst} unlike its source {src}: {key_differences(b, a) or _shown(wrong)}")
    problems = verify_independently(s3.client, dst, tree, etags=False)
    assert problems is None, f"the AWS CLI's copy in bucket {dst}, listed and read through boto3: {problems}"

    aws.run("s3", "rm", "--only-show-errors", "--recursive", f"s3://{dst}/{DELETED_DIR}")
    aws.run("s3", "rm", "--only-show-errors", f"s3://{dst}/{DELETED_FILE}")
    kept = sorted(k for k in tree.files if not k.startswith(DELETED_DIR) and k != DELETED_FILE)
    listed = [line.split(None, 3)[3] for line in aws.run("s3", "ls", "--recursive", f"s3://{dst}").stdout.splitlines()
              if len(line.split(None, 3)) == 4]
    diff = key_differences(listed, kept)
    assert not diff, f"aws s3 ls of {dst} after deleting {DELETED_DIR} and {DELETED_FILE}: {diff}"
    diff = key_differences(listing(s3.client, dst), kept)
    assert not diff, f"after the AWS CLI's deletes, boto3 lists {dst} with keys {diff}"
    diff = key_differences(aws_listing(aws, src), tree.files)
    assert not diff, f"deleting in {dst} changed {src}: {diff}"

    aws.run("s3", "rb", "--force", f"s3://{dst}")
    buckets = [line.split()[-1] for line in aws.run("s3", "ls").stdout.splitlines() if line.strip()]
    assert dst not in buckets and src in buckets, f"after aws s3 rb of {dst} the user's buckets are {buckets}"
