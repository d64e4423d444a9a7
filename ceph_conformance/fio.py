"""fio's figures for a volume: kubestr's profile, and the suite's own sequential pattern.

kubestr (Kasten's storage benchmark for Kubernetes) runs fio with 4 KiB random reads and writes
at iodepth 64 for IOPS and 128 KiB transfers at iodepth 64 for bandwidth, ioengine=libaio,
direct=1, time_based with a 2 s ramp and 15 s runtime, on a 2 GiB file. Here the same jobs run
with shorter times (2 cores, a run that must stay short) on a smaller file, one after the other
(stonewall: each pattern alone, not four at once), with latency percentiles kept (kubestr's
gtod_reduce=1 would drop them). The bandwidth jobs are sequential (read, write), as their names
say.

The suite's own sequential measurement is repeated through fio, right after the suite's and
again after kubestr's jobs: 4 MiB buffered writes to a new file of the suite's size ended by an
fsync, then a read of it with its page cache dropped first (on CephFS, on the other client, as
the suite reads: on_two_clients). fio's figure for the same pattern
tells whether the suite's own timer can be trusted; its two runs, how much the volume's speed
varies between moments on this host; the profile's figures beside them, how much the access
pattern (not the measuring) changes the answer.
"""

from dataclasses import dataclass

RAMP_S, RUNTIME_S = 1, 3
FILE_SIZE = "128M"
FILE_NAME = "cconf-fio.bin"  # kubestr's jobs' file, laid out by fio before the first
SEQ_FILE = "cconf-fio-seq.bin"  # the suite's pattern: a new file each time, as the suite writes
COMMON = ["--ioengine=libaio", "--direct=1", "--randrepeat=0", "--verify=0", "--time_based",
          f"--ramp_time={RAMP_S}s", f"--runtime={RUNTIME_S}s"]


@dataclass(frozen=True)
class Job:
    name: str  # also the metric's middle part
    rw: str
    bs: str
    iodepth: int = 64
    profile: bool = True  # kubestr's (time based, direct, libaio) or the suite's own pattern

    @property
    def writes(self):
        return "write" in self.rw

    def argv(self, seq_size):
        if self.profile:
            return [f"--name={self.name}", f"--filename={FILE_NAME}", f"--size={FILE_SIZE}", f"--rw={self.rw}",
                    f"--bs={self.bs}", f"--iodepth={self.iodepth}", "--stonewall", *COMMON]
        # The suite's sequential pattern: buffered, synchronous, the whole file once; written to a
        # new file (no preallocation) and removed after it is read.
        args = [f"--name={self.name}", f"--filename={SEQ_FILE}", f"--size={seq_size}", f"--rw={self.rw}",
                f"--bs={self.bs}", "--iodepth=1", "--stonewall", "--ioengine=psync", "--direct=0"]
        return args + (["--end_fsync=1", "--fallocate=none"] if self.writes else ["--invalidate=1", "--unlink=1"])


def _suite(suffix=""):
    return (Job(f"suite_seqwrite_4m{suffix}", "write", "4M", 1, profile=False),
            Job(f"suite_seqread_4m{suffix}", "read", "4M", 1, profile=False))


KUBESTR = (Job("randread_4k", "randread", "4k"), Job("randwrite_4k", "randwrite", "4k"),
           Job("seqread_128k", "read", "128k"), Job("seqwrite_128k", "write", "128k"))
LAYOUT_JOB = "layout"  # not measured: the job that writes kubestr's jobs' file first (layout())
# The suite's pattern right after the suite's own measurement, and again after kubestr's jobs:
# how far two runs of one pattern differ says how much the volume's speed varies from moment to moment.
SUITE, SUITE_AGAIN = _suite(), _suite("_again")
JOBS = SUITE + KUBESTR + SUITE_AGAIN
FILES = (FILE_NAME, SEQ_FILE)


def on_two_clients(writer, reader, seq_size, timeout):
    """fio's report for the jobs run where the suite's CephFS measurement runs: the suite's
    pattern written on one client and read on the other (as the suite reads the other client's
    file: a client's own cache, ceph-fuse's included, would answer its own reads), kubestr's jobs
    on the writer. writer, reader: FilesystemClients of one directory."""
    jobs = []
    for client, part, files in ((writer, SUITE[:1], ()), (reader, SUITE[1:], FILES),
                                (writer, KUBESTR, FILES),
                                (writer, SUITE_AGAIN[:1], ()), (reader, SUITE_AGAIN[1:], FILES)):
        jobs += client.run_fio(arguments(seq_size, part), timeout=timeout, files=files)["jobs"]
    return {"jobs": jobs}


def arguments(seq_size, jobs=JOBS):
    """fio's options for the jobs (seq_size: the size the suite's own measurement moves, e.g.
    "256M"), without where the files go or the output format (the data plane adds those): the
    same list everywhere, and in the report next to the figures."""
    out, laid_out = [], False
    for job in jobs:
        if job.profile and not laid_out:  # before the first of kubestr's jobs
            out += layout()
            laid_out = True
        out += job.argv(seq_size)
    return out


def layout():
    """The job that writes kubestr's jobs' file before their first job, in 4 MiB writes. fio lays a
    missing file out in the block size of the job that needs it: 32,768 writes of 4 KiB for
    randread_4k, each its own request through ceph-fuse (measured: the four jobs took 23.3 s on
    CephFS for their 16 s of running, 18.3 s with this job). A write job of its own only
    preallocates the file and then writes it as it is told."""
    return [f"--name={LAYOUT_JOB}", f"--filename={FILE_NAME}", f"--size={FILE_SIZE}", "--rw=write", "--bs=4M",
            "--iodepth=1", "--stonewall", "--ioengine=psync", "--direct=0", "--end_fsync=1"]


def parameters():
    """One line naming fio's parameters, for the report."""
    return (f"fio, ioengine=libaio direct=1 iodepth=64 time_based ramp_time={RAMP_S}s runtime={RUNTIME_S}s "
            f"per job, one job at a time, on a {FILE_SIZE}B file written first in 4M writes: 4k randread, "
            f"4k randwrite, 128k read, 128k write (kubestr's profile, shorter and on a smaller file); before and "
            f"after them the suite's own pattern on a new file of the suite's size: 4M buffered writes + one fsync "
            f"(psync, end_fsync=1), 4M buffered reads after dropping the cache (invalidate=1)")


class FioFailed(AssertionError):
    pass


def figures(report, prefix):
    """Metrics from fio's JSON report: (name, value, unit) for each job: IOPS, bandwidth (MB/s),
    completion latency p50 and p99 (ms). Raises FioFailed naming a job that erred or did no I/O."""
    out = []
    by_name = {j["jobname"]: j for j in report.get("jobs", [])}
    for job in JOBS:
        got = by_name.get(job.name)
        if got is None:
            raise FioFailed(f"fio reported no job {job.name} (jobs: {sorted(by_name)})")
        if got.get("error"):
            raise FioFailed(f"fio job {job.name} failed with error {got['error']}")
        side = got["write" if job.writes else "read"]
        if not side.get("io_bytes"):
            raise FioFailed(f"fio job {job.name} moved no data ({side.get('io_bytes')} bytes)")
        name = f"{prefix}_{job.name}"
        if job.profile:
            out.append((f"{name}_iops", side["iops"], "IOPS"))
        out.append((f"{name}_bw", side["bw_bytes"] / 1e6, "MB/s"))
        pct = (side.get("clat_ns") or {}).get("percentile") or {}
        for label, key in (("p50", "50.000000"), ("p99", "99.000000")):
            if key in pct:
                out.append((f"{name}_lat_{label}", pct[key] / 1e6, "ms"))
    return out


# The suite's own sequential figures and fio's for the same volume, in the same run:
# (suite metric, fio job with kubestr's profile, fio job with the suite's pattern).
AGREEMENT = {
    "block volume, sequential write": ("rbd_seq_write_256MiB", "fio_rbd", "seqwrite_128k", "suite_seqwrite_4m"),
    "block volume, sequential read": ("rbd_seq_read_256MiB", "fio_rbd", "seqread_128k", "suite_seqread_4m"),
    "CephFS, sequential write": ("cephfs_write_64MiB", "fio_cephfs", "seqwrite_128k", "suite_seqwrite_4m"),
    "CephFS, sequential read": ("cephfs_read_64MiB_other_client", "fio_cephfs", "seqread_128k", "suite_seqread_4m"),
}
TOLERANCE = 0.10
PATTERN = ("the suite moves 4 MiB buffered transfers one at a time (ended by one fsync, or read after the cache "
           "is dropped); kubestr's profile 128 KiB direct transfers, 64 in flight")


def agreement(metric_rows):
    """For each path the run measured both ways: the suite's figure beside fio's with kubestr's
    profile (ratio; agrees within 10 %), fio's with the suite's own pattern (run twice), and why
    the figures differ when they do, from what was measured."""
    values = {m["name"]: m["value"] for m in metric_rows}
    rows = []
    for what, (suite, prefix, profile, same) in AGREEMENT.items():
        profile = values.get(f"{prefix}_{profile}_bw")
        if suite not in values or not profile:
            continue
        row = {"path": what, "suite_MBps": values[suite], "fio_profile_MBps": profile,
               "ratio": round(values[suite] / profile, 3)}
        row["agrees"] = abs(row["ratio"] - 1) <= TOLERANCE
        runs = [values[n] for n in (f"{prefix}_{same}_bw", f"{prefix}_{same}_again_bw") if values.get(n)]
        if runs:
            row["fio_same_pattern_MBps"] = runs
        row["explanation"] = _explain(values[suite], row, runs)
        rows.append(row)
    return rows


def _explain(suite, row, runs):
    if row["agrees"]:
        return f"within {TOLERANCE:.0%}"
    if not runs:
        return f"differs by more than {TOLERANCE:.0%}; {PATTERN}; fio did not measure the suite's pattern"
    low, high = min(runs), max(runs)
    shown = " and ".join(f"{r:.0f}" for r in runs)
    if any(abs(suite / r - 1) <= TOLERANCE for r in runs):
        return (f"the access pattern, not the measuring: fio with the suite's own pattern measured {shown} MB/s, "
                f"within {TOLERANCE:.0%} of the suite's {suite:.0f}; {PATTERN}")
    if low * (1 - TOLERANCE) <= suite <= high * (1 + TOLERANCE):
        return (f"the volume's speed varies on this host from moment to moment: fio's two runs of the suite's own "
                f"pattern measured {shown} MB/s ({high / low - 1:.0%} apart), and the suite's {suite:.0f} lies in "
                f"that range; besides, {PATTERN}")
    return (f"not explained by what was measured: fio with the suite's own pattern measured {shown} MB/s, the suite "
            f"{suite:.0f} (outside that range by more than {TOLERANCE:.0%}); {PATTERN}")


PATHS = {"fio_rbd": "block volume", "fio_cephfs": "CephFS"}


def summary(metric_rows):
    """What results.json and the report show of fio: its parameters, each job's figures by path,
    and the agreement with the suite's own figures. None when fio did not run."""
    values = {m["name"]: m["value"] for m in metric_rows}
    jobs = []
    for prefix, path in PATHS.items():
        for job in JOBS:
            name = f"{prefix}_{job.name}"
            if f"{name}_bw" not in values:
                continue
            jobs.append({"path": path, "job": job.name, "rw": job.rw, "bs": job.bs, "iodepth": job.iodepth,
                         "pattern": "kubestr" if job.profile else "the suite's",
                         "iops": values.get(f"{name}_iops"), "MBps": values[f"{name}_bw"],
                         "lat_p50_ms": values.get(f"{name}_lat_p50"), "lat_p99_ms": values.get(f"{name}_lat_p99")})
    if not jobs:
        return None
    return {"parameters": parameters(), "arguments": " ".join(arguments("SEQ_SIZE")), "jobs": jobs,
            "agreement": agreement(metric_rows)}
