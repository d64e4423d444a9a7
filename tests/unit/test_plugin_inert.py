"""The plugin is installed for every pytest session of the venv: it acts only in conformance runs."""


def test_an_unrelated_session_gets_none_of_the_plugins_behaviour(pytester):
    pytester.makepyfile(test_other="""
        import pytest

        @pytest.mark.health
        def test_b():
            pass

        def test_a():
            pass
    """)
    result = pytester.runpytest_subprocess("--html=report.html", "--self-contained-html", "-v",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    html = (pytester.path / "report.html").read_text()
    assert ">report.html</title>" in html and "Ceph conformance" not in html
    out = result.stdout.str()
    assert "ceph conformance" not in out.lower()
    # Collection order is the file's: the plugin's health-first ordering is not applied here.
    assert out.index("::test_b") < out.index("::test_a")
    assert not (pytester.path / "reports").exists()
