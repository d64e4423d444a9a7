"""fio's figures for a volume: kubestr's profile, and the suite's own sequential pattern.

kubestr (Kasten's storage benchmark for Kubernetes) runs fio with 4 KiB random reads and writes
at iodepth 64 for IOPS and 128 KiB transfers at iodepth 64 for bandwidth, ioengine=libaio,
direct=1, time_based with a 2 s ramp and 15 s runtime, on a 2 GiB file. Here the same jobs run
with shorter times (2 cores, a run that must stay short) on a smaller file, one after the other
(stonewall: each pattern alone, not four at once), with latency percentiles kept (kubestr's
gtod_reduce=1 would drop them). The bandwidth jobs are sequential (read, write), as their names
say.

Two more jobs repeat the suite's own sequential measurement through fio: 4 MiB buffered writes
ended by an fsync, then a read of the file with its page cache dropped first. fio's figure for
the same pattern tells whether the suite's own timer can be trusted, and the profile's figures
next to it show how much the access pattern (not the measuring) changes the answer.
"""

from dataclasses import dataclass

RAMP_S, RUNTIME_S = 1, 5
FILE_SIZE = "256M"
FILE_NAME = "cconf-fio.bin"
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

    def argv(self):
        args = [f"--name={self.name}", f"--filename={FILE_NAME}", f"--size={FILE_SIZE}", f"--rw={self.rw}",
                f"--bs={self.bs}", f"--iodepth={self.iodepth}", "--stonewall"]
        if self.profile:
            return args + COMMON
        # The suite's sequential pattern: buffered, synchronous, the whole file once.
        args += ["--ioengine=psync", "--direct=0"]
        return args + (["--end_fsync=1"] if self.writes else ["--invalidate=1"])


KUBESTR = (Job("randread_4k", "randread", "4k"), Job("randwrite_4k", "randwrite", "4k"),
           Job("seqread_128k", "read", "128k"), Job("seqwrite_128k", "write", "128k"))
SUITE_PATTERN = (Job("suite_seqwrite_4m", "write", "4M", 1, profile=False),
                 Job("suite_seqread_4m", "read", "4M", 1, profile=False))
JOBS = KUBESTR + SUITE_PATTERN


def arguments(jobs=JOBS):
    """fio's options for the jobs, without where the file goes or the output format (the data
    plane adds those): the same list everywhere, and in the report next to the figures."""
    out = []
    for job in jobs:
        out += job.argv()
    return out


def parameters():
    """One line naming fio's parameters, for the report."""
    return (f"fio, ioengine=libaio direct=1 iodepth=64 time_based ramp_time={RAMP_S}s runtime={RUNTIME_S}s "
            f"per job, one job at a time, on a {FILE_SIZE}B file: 4k randread, 4k randwrite, 128k read, 128k write "
            f"(kubestr's profile, shorter); then the suite's pattern: 4M buffered write + fsync (psync, "
            f"end_fsync=1), 4M buffered read after dropping the cache (invalidate=1)")


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


# The suite's own sequential figures and fio's for the same volume, in the same run.
# (suite metric, fio profile metric, fio same-pattern metric)
AGREEMENT = {
    "block volume, sequential write": ("rbd_seq_write_256MiB", "fio_rbd_seqwrite_128k_bw",
                                       "fio_rbd_suite_seqwrite_4m_bw"),
    "block volume, sequential read": ("rbd_seq_read_256MiB", "fio_rbd_seqread_128k_bw",
                                      "fio_rbd_suite_seqread_4m_bw"),
    "CephFS, sequential write": ("cephfs_write_64MiB", "fio_cephfs_seqwrite_128k_bw",
                                 "fio_cephfs_suite_seqwrite_4m_bw"),
    "CephFS, sequential read": ("cephfs_read_64MiB_other_client", "fio_cephfs_seqread_128k_bw",
                                "fio_cephfs_suite_seqread_4m_bw"),
}
TOLERANCE = 0.10


def agreement(metric_rows):
    """For each path the run measured both ways: the suite's figure, fio's with kubestr's profile
    and fio's with the suite's pattern, their ratios, and a sentence on why they differ when
    the suite and kubestr's profile are more than 10 % apart."""
    values = {m["name"]: m["value"] for m in metric_rows}
    rows = []
    for what, (suite, profile, same) in AGREEMENT.items():
        if suite not in values or profile not in values or not values[profile]:
            continue
        row = {"path": what, "suite_MBps": values[suite], "fio_profile_MBps": values[profile],
               "ratio": round(values[suite] / values[profile], 3)}
        row["agrees"] = abs(row["ratio"] - 1) <= TOLERANCE
        if values.get(same):
            row["fio_same_pattern_MBps"] = values[same]
            row["same_pattern_ratio"] = round(values[suite] / values[same], 3)
        row["explanation"] = _explain(row)
        rows.append(row)
    return rows


def _explain(row):
    if row["agrees"]:
        return f"within {TOLERANCE:.0%}"
    same = row.get("same_pattern_ratio")
    pattern = ("the suite moves 4 MiB buffered transfers one at a time (ended by one fsync, or a read after "
               "the cache is dropped); kubestr's profile 128 KiB direct transfers, 64 in flight")
    if same is None:
        return f"differs by more than {TOLERANCE:.0%}; {pattern}; fio did not measure the suite's pattern"
    if abs(same - 1) <= TOLERANCE:
        return (f"the access pattern, not the measuring: fio with the suite's own pattern agrees with the suite "
                f"(ratio {same:.2f}); {pattern}")
    return (f"differs by more than {TOLERANCE:.0%} from fio with kubestr's profile and with the suite's own pattern "
            f"(ratio {same:.2f}): the volume's speed changed between the measurements, or the suite's timer "
            f"is wrong; {pattern}")


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
    return {"parameters": parameters(), "arguments": " ".join(arguments()), "jobs": jobs,
            "agreement": agreement(metric_rows)}
