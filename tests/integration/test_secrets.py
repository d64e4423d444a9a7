"""No secret of a run shows where others can read it: not in its reports, its progress log, its
output, nor any process's command line while it runs (two workers, the controller writes reports)."""

import os
import re
import threading
import time
from pathlib import Path

from ceph_conformance.errors import CommandError
from ceph_conformance.targets.local.cluster import LocalCluster

from .harness import RunningSuite

_KEY = re.compile(r"^\s*key\s*=\s*(\S+)", re.M)


class Watch:
    """Everything of the run that must stay secret, and everything that must not show it,
    collected while the run lives (its run directory goes at teardown)."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.secrets = set()
        self.cmdlines = set()
        self.progress = ""
        self.s3 = set()
        self._next_s3 = 0.0

    def ask_rgw(self):
        """The S3 secrets of the run's users, straight from RGW: known whatever the suite registers."""
        if time.monotonic() < self._next_s3:
            return
        self._next_s3 = time.monotonic() + 2
        cluster = LocalCluster(self.run_dir / "cluster", state={})
        if not cluster.keyring("client.admin").exists():
            return
        ceph = cluster.client(timeout=20)
        try:
            for uid in ceph.tool_json("radosgw-admin", "user", "list"):
                if uid.startswith("cconf-" + self.run_dir.name):
                    info = ceph.tool_json("radosgw-admin", "user", "info", "--uid", uid)
                    self.s3 |= {k["secret_key"] for k in info["keys"]}
        except (CommandError, ValueError):
            pass  # RGW not up yet, or the cluster already going

    def poll(self):
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    self.cmdlines.add(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                        errors="replace"))
                except OSError:
                    pass
        # Not recursive: the clients' directories hold CephFS and XFS mounts.
        keyrings = [*self.run_dir.glob("cluster/keyring/*.keyring"), *self.run_dir.glob("clients/*/*.keyring")]
        for path in [*keyrings, self.run_dir / "session" / "secrets", self.run_dir / "progress.log"]:
            try:
                text = path.read_text()
            except OSError:
                continue
            if path.name == "secrets":
                self.secrets |= {line for line in text.splitlines() if line}
            elif path.name == "progress.log":
                self.progress = max(self.progress, text, key=len)
            else:
                self.secrets |= set(_KEY.findall(text))


def test_no_secret_of_a_run_leaks(tmp_path):
    suite = RunningSuite(tmp_path, "-m", "object or sharedfs", "-n", "2")
    output = []
    reader = threading.Thread(target=lambda: output.extend(suite.proc.stdout), daemon=True)
    try:
        run_dir = suite.run_dir()
        reader.start()
        watch = Watch(run_dir)
        deadline = time.monotonic() + 1500
        while suite.proc.poll() is None and time.monotonic() < deadline:
            watch.poll()
            watch.ask_rgw()
            time.sleep(0.05)
        assert suite.proc.poll() is not None, "the run did not end within 1500s"
    finally:
        suite.kill()
    reader.join(timeout=30)
    text = "".join(output)
    assert suite.proc.returncode == 0, text[-4000:]
    # Counts and booleans only: a failing assertion must not print the secrets it is about.
    n_cephx, n_s3 = len({s for s in watch.secrets if s.startswith("AQ")}), len(watch.s3)
    assert n_s3 >= 1 and n_cephx >= 5, f"collected {n_s3} S3 and {n_cephx} cephx secrets"
    unshared = len(watch.s3 - watch.secrets)
    assert unshared == 0, f"{unshared} S3 secret(s) of the run were not shared with the run's other processes"
    watch.secrets |= watch.s3
    print(f"{n_s3} S3 secrets, {n_cephx} cephx keys, {len(watch.cmdlines)} command lines watched")
    report_dir = (tmp_path / "latest").resolve()
    places = {f"report {p.name}": p.read_text(errors="replace") for p in report_dir.rglob("*") if p.is_file()}
    assert {"report.html", "junit.xml", "results.json"} <= {k.split()[-1] for k in places}, sorted(places)
    places["progress.log"] = watch.progress
    places["pytest output"] = text
    assert watch.progress and "tearing down" in text
    for where, content in places.items():
        leaked = sum(s in content for s in watch.secrets)
        assert not leaked, f"{where} shows {leaked} secret(s) of the run"
    shown = [line.split()[0] for line in watch.cmdlines if any(s in line for s in watch.secrets)]
    assert not shown, f"secrets on the command lines of {shown[:5]}"
