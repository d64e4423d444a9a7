"""fio's figures (ceph_conformance/fio.py): the profile's arguments run as Debian's fio runs them,
its JSON report gives IOPS, bandwidth and latency percentiles for every job, a job that fails is
named, and the suite's figures are set beside fio's with a reason when they differ."""

import json
import shutil
import subprocess

import pytest

from ceph_conformance import fio

needs_fio = pytest.mark.skipif(not shutil.which("fio"), reason="needs Debian's fio")


def _short(monkeypatch):
    """The same jobs, 1 s each on a 16 MiB file: what is tested is the arguments and the parsing."""
    monkeypatch.setattr(fio, "COMMON", [*fio.COMMON[:-2], "--ramp_time=0s", "--runtime=1s"])
    monkeypatch.setattr(fio, "FILE_SIZE", "16M")


@needs_fio
def test_the_profile_runs_and_every_job_gives_its_figures(tmp_path, monkeypatch):
    _short(monkeypatch)
    done = subprocess.run(["fio", "--output-format=json", *fio.arguments("8M")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = {name: (value, unit) for name, value, unit in fio.figures(json.loads(done.stdout), "fio_x")}
    for job in fio.KUBESTR:
        assert found[f"fio_x_{job.name}_iops"][0] > 0 and found[f"fio_x_{job.name}_iops"][1] == "IOPS"
    for job in fio.JOBS:
        assert found[f"fio_x_{job.name}_bw"][0] > 0 and found[f"fio_x_{job.name}_bw"][1] == "MB/s"
        p50, p99 = found[f"fio_x_{job.name}_lat_p50"][0], found[f"fio_x_{job.name}_lat_p99"][0]
        assert 0 < p50 <= p99, (job, p50, p99)
    report = json.loads(done.stdout)
    options = {j["jobname"]: j["job options"] for j in report["jobs"]}
    assert options["randread_4k"]["ioengine"] == "libaio" and options["randread_4k"]["direct"] == "1"
    assert options["randwrite_4k"]["iodepth"] == "64" and options["seqwrite_128k"]["bs"] == "128k"
    assert options["suite_seqwrite_4m"]["end_fsync"] == "1" and options["suite_seqwrite_4m"]["direct"] == "0"
    assert options["suite_seqwrite_4m_again"]["size"] == "8M" and options["suite_seqread_4m"]["unlink"] == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == [fio.FILE_NAME]  # the suite's pattern's file is gone
    # kubestr's file is written by the layout job in 4 MiB writes, not laid out by randread_4k in 4 KiB ones
    layout = next(j for j in report["jobs"] if j["jobname"] == fio.LAYOUT_JOB)
    assert layout["job options"]["bs"] == "4M" and layout["write"]["io_bytes"] == 16 * 2**20, layout["write"]
    names = [j["jobname"] for j in report["jobs"]]
    assert names.index(fio.LAYOUT_JOB) == names.index(fio.KUBESTR[0].name) - 1, names


def test_a_job_that_failed_or_is_missing_is_named():
    job = {"jobname": "suite_seqwrite_4m", "error": 5, "write": {"io_bytes": 0}}
    with pytest.raises(fio.FioFailed, match="fio job suite_seqwrite_4m failed with error 5"):
        fio.figures({"jobs": [job]}, "p")
    with pytest.raises(fio.FioFailed, match="fio job suite_seqwrite_4m moved no data"):
        fio.figures({"jobs": [{**job, "error": 0}]}, "p")
    with pytest.raises(fio.FioFailed, match="fio reported no job suite_seqwrite_4m"):
        fio.figures({"jobs": []}, "p")


def _rows(**values):
    return [{"name": k, "value": v, "unit": "MB/s"} for k, v in values.items()]


def test_agreement_within_ten_percent_and_the_reason_when_not():
    rows = fio.agreement(_rows(
        rbd_seq_write_256MiB=95, fio_rbd_seqwrite_128k_bw=100,  # agrees
        rbd_seq_read_256MiB=50, fio_rbd_seqread_128k_bw=100, fio_rbd_suite_seqread_4m_bw=52,  # the pattern
        cephfs_write_64MiB=70, fio_cephfs_seqwrite_128k_bw=100, fio_cephfs_suite_seqwrite_4m_bw=60,
        fio_cephfs_suite_seqwrite_4m_again_bw=90,  # within fio's own spread
        cephfs_read_64MiB_other_client=20, fio_cephfs_seqread_128k_bw=100, fio_cephfs_suite_seqread_4m_bw=60,
        fio_cephfs_suite_seqread_4m_again_bw=62))  # unexplained
    by_path = {r["path"]: r for r in rows}
    assert by_path["block volume, sequential write"]["agrees"]
    assert by_path["block volume, sequential write"]["explanation"] == "within 10%"
    read = by_path["block volume, sequential read"]
    assert not read["agrees"] and read["ratio"] == 0.5 and read["fio_same_pattern_MBps"] == [52]
    assert read["explanation"].startswith("the access pattern, not the measuring"), read
    varies = by_path["CephFS, sequential write"]["explanation"]
    assert varies.startswith("the volume's speed varies") and "60 and 90 MB/s (50% apart)" in varies, varies
    unexplained = by_path["CephFS, sequential read"]["explanation"]
    assert unexplained.startswith("not explained by what was measured"), unexplained


def test_summary_lists_each_job_with_its_parameters():
    assert fio.summary(_rows(rbd_seq_write_256MiB=1)) is None
    s = fio.summary(_rows(fio_rbd_randread_4k_bw=10) + [{"name": "fio_rbd_randread_4k_iops", "value": 2500,
                                                           "unit": "IOPS"}])
    assert s["jobs"] == [{"path": "block volume", "job": "randread_4k", "rw": "randread", "bs": "4k", "iodepth": 64,
                          "pattern": "kubestr", "iops": 2500, "MBps": 10, "lat_p50_ms": None, "lat_p99_ms": None}]
    assert "ioengine=libaio direct=1 iodepth=64" in s["parameters"] and "--runtime=3s" in s["arguments"]


@needs_fio
def test_on_two_clients_writes_on_one_reads_on_the_other_and_leaves_nothing(tmp_path, monkeypatch):
    from ceph_conformance.targets.host_clients.sharedfs import HostFilesystemClient

    _short(monkeypatch)
    writer, reader = HostFilesystemClient("client.a", tmp_path), HostFilesystemClient("client.b", tmp_path)
    ran = []
    for client in (writer, reader):
        def spy(args, timeout, files, c=client.name, real=client.run_fio):
            ran.append((c, [a.split("=", 1)[1] for a in args if a.startswith("--name=")]))
            return real(args, timeout, files)

        monkeypatch.setattr(client, "run_fio", spy)
    report = fio.on_two_clients(writer, reader, "8M", timeout=60)
    assert [j["jobname"] for j in report["jobs"]] == [
        *[j.name for j in fio.SUITE], fio.LAYOUT_JOB, *[j.name for j in fio.KUBESTR + fio.SUITE_AGAIN]]
    assert ran == [("client.a", ["suite_seqwrite_4m"]), ("client.b", ["suite_seqread_4m"]),
                   ("client.a", [fio.LAYOUT_JOB, *[j.name for j in fio.KUBESTR]]),
                   ("client.a", ["suite_seqwrite_4m_again"]),
                   ("client.b", ["suite_seqread_4m_again"])]
    assert len(fio.figures(report, "fio_cephfs")) > 20
    assert list(tmp_path.iterdir()) == []  # the files and fio's reports are gone
