"""Long first-use steps (building MinIO, installing Ghost, ...) say on the terminal when they begin and
end, also from inside a check, whose output pytest captures."""

import subprocess
import sys
import textwrap

import pytest

from ceph_conformance.host import firstuse


def test_a_step_says_when_it_begins_and_when_it_ends():
    said = []
    with firstuse.step("building minio from its Go module", "about 9 min", "built minio", said.append):
        pass
    assert said == ["building minio from its Go module (first use, about 9 min) ...", "... built minio in 0 s"]


def test_a_step_that_fails_says_so_and_raises():
    said = []
    with pytest.raises(RuntimeError), firstuse.step("installing Ghost", "3 to 9 min", "installed", said.append):
        raise RuntimeError("npm failed")
    assert said[-1] == "... installing Ghost failed after 0 s"


CHECK = textwrap.dedent('''
    import time, types
    from ceph_conformance.host import firstuse
    from ceph_conformance.plugin.context import RunContext

    def test_a_fixture_builds_on_first_use(request, tmp_path):
        # The run's context as the plugin makes it, inside a check (its output captured).
        ctx = RunContext.__new__(RunContext)
        ctx.config, ctx.run, ctx.controller = request.config, types.SimpleNamespace(run_dir=tmp_path), CONTROLLER
        ctx.in_check, ctx.terminal_gone, ctx.t0 = True, False, time.time()
        firstuse.set_sink(ctx.announce)
        try:
            with firstuse.step("building thing from its Go module", "about 9 min", "built thing"):
                print("output the check's capture keeps")
        finally:
            firstuse.set_sink(None)
        assert "building thing" in (tmp_path / "progress.log").read_text()
''')


@pytest.mark.parametrize("controller, args", [(True, []), (False, ["-n", "1"])], ids=["controller", "xdist worker"])
def test_inside_a_check_the_lines_reach_the_terminal_past_the_capture(tmp_path, controller, args):
    (tmp_path / "test_first_use.py").write_text(CHECK.replace("CONTROLLER", str(controller)))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args,
                           "test_first_use.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    shown = proc.stdout + proc.stderr
    assert proc.returncode == 0, shown
    assert "building thing from its Go module (first use, about 9 min) ..." in shown, shown
    assert "... built thing in 0 s" in shown, shown
    assert "output the check's capture keeps" not in shown, shown
