"""What every corrupting-gateway test asserts of a finished run: exactly the expected object checks
failed, each saying what came back wrong; both gates passed; nothing of the run is left in RGW."""


def assert_exactly_these_failed(run, case, expected, checks_in_run=None, at_least=0):
    """expected: check name -> a fragment, or a list of fragments, of its failure message.
    checks_in_run, at_least: how many object checks the run must have had (exactly, at least)."""
    assert run.returncode == 1, run
    checks = {c["nodeid"].split("::")[-1]: c for c in run.checks("object")}
    if checks_in_run is not None:
        assert len(checks) == checks_in_run, f"{case}: the run had checks {sorted(checks)}"
    assert len(checks) >= at_least, f"{case}: the run had checks {sorted(checks)}"
    failed = {c["nodeid"].split("::")[-1] for c in run.not_passed() if c in checks.values()}
    assert failed == set(expected), f"{case}: failed {sorted(failed)}, expected {sorted(expected)}\n{run!r}"
    for name, fragments in expected.items():
        c = checks[name]
        assert c["outcome"] == "failed", c  # the check's verdict on the answer, not an error of the suite
        for fragment in [fragments] if isinstance(fragments, str) else fragments:
            assert fragment in c["message"], f"{case}: {name}: {fragment!r} not in its message: {c['message']}"
        assert "Traceback" not in c["message"], c["message"]
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"]


def assert_nothing_of_the_run_in_rgw(cluster, run):
    """What the corrupted answers kept the checks' cleanup from removing went with the run's users."""
    prefix = "cconf-" + run.results["run_id"]
    users = cluster.client().tool_json("radosgw-admin", "user", "list")
    assert not [u for u in users if u.startswith(prefix)], f"S3 users of the run left: {users}"
    buckets = cluster.client().tool_json("radosgw-admin", "bucket", "list")
    assert not [b for b in buckets if b.startswith(prefix)], f"buckets of the run left: {buckets}"
