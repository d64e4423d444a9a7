"""A database that accepts connections and stops answering fails the checks that meet it within
--op-timeout, each saying so; the block checks that make no SQL query still pass."""

import json

from .harness import run_suite


def test_block_checks_fail_within_the_op_budget_when_the_database_goes_silent(live_cluster, existing, tmp_path):
    budget = 8
    held = tmp_path / "held.jsonl"
    run = run_suite(tmp_path, "-m", "block", "-k", "provisioned or round_trip or clean_restart or raw_io",
                    f"--op-timeout={budget}", "-p", "tests.integration.silent_sql", *existing,
                    env={"CCONF_SELFTEST_SQL_HELD": str(held)}, timeout=600)
    queries = [json.loads(line) for line in held.read_text().splitlines()] if held.exists() else []
    assert queries, f"the proxy held no query; {run}"
    for name in ("test_database_round_trip_spans_many_rados_objects", "test_clean_restart_keeps_every_row"):
        c = run.check(name)
        assert c["outcome"] == "failed", (c, run)
        message = c["message"]
        assert "could not be read back" in message and (
            f"accepted the connection but did not answer within {budget}s (--op-timeout" in message), message
        assert "SELECT id, payload FROM conformance.data" in message, message
        # The check ended within the budget of the query the proxy held during it (plus its cleanup).
        during = [q["at"] for q in queries if c["call_started"] <= q["at"] <= c["finished"]]
        assert during, (c, queries)
        assert c["finished"] - during[0] < budget + 5, (c, queries)
    for name in ("test_volume_is_provisioned_with_the_requested_size", "test_raw_io_pattern_survives_a_fresh_attach"):
        assert run.check(name)["outcome"] == "passed", run.check(name)
    assert run.results["gate_start"]["ok"] and run.results["gate_end"]["ok"], run
    assert run.results["teardown_error"] is None, run
