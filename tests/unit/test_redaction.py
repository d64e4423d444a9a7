"""Secrets never reach a report: a failing check that prints a key is written out masked."""

SECRET = "Zq8sT2vLkP0wXy4bN6mR"


def test_failing_check_with_a_secret_is_reported_masked(pytester):
    pytester.makepyfile(test_leaky=f"""
        import logging
        from ceph_conformance.secrets import register

        def test_leaks():
            secret = register("{SECRET}")
            print("stdout has", secret)
            logging.getLogger("boto").warning("log has %s", secret)
            assert secret == "other", f"message has {{secret}}"
    """)
    result = pytester.runpytest_subprocess("-p", "ceph_conformance.plugin", "--junitxml=junit.xml",
                                          "-o", "junit_logging=all")
    result.assert_outcomes(failed=1)
    junit = (pytester.path / "junit.xml").read_text()
    assert SECRET not in junit and SECRET not in result.stdout.str()
    assert "message has ***" in junit and "stdout has ***" in junit and "log has ***" in junit
    result.stdout.fnmatch_lines(["FAILED test_leaky.py::test_leaks - AssertionError: message has ***"])
    assert "ceph conformance" not in result.stdout.str(), "a run outside suites/ is not a conformance run"
