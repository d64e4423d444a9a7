"""benchmarks/bench.py: two benchmarks side by side as ratios, and the SVG charts it writes."""

import json
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "results-local-full.json"


def _bench(path, commit, scale):
    """A benchmark directory as bench.py writes it: bench.json with two runs of one shape."""
    results = json.loads(SAMPLE.read_text())
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    runs = {}
    for i, factor in enumerate((1.0, 1.2), 1):
        r = {**results, "time_to_health_ok_s": results["time_to_health_ok_s"] * scale * factor}
        runs[f"run {i}"] = bench.figures(r)
    path.mkdir()
    (path / "bench.json").write_text(json.dumps({"commit": commit, "shapes": {"3 nodes x 1 OSDs": runs}}))
    return results["time_to_health_ok_s"]


def test_compare_prints_medians_and_ratios_and_writes_a_chart(tmp_path):
    base = _bench(tmp_path / "A", "aaaa111", 1.0)
    _bench(tmp_path / "B", "bbbb222", 0.5)
    done = subprocess.run([sys.executable, REPO / "benchmarks" / "bench.py", "--compare", tmp_path / "A",
                           tmp_path / "B"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("time to HEALTH_OK [s]"))
    cells = line.split()
    assert float(cells[4]) == round(base * 1.1, 1) and float(cells[5]) == round(base * 0.55, 1), line
    assert cells[6] == "0.50", line  # B / A
    assert "A median (aaaa111, 2 runs)" in done.stdout
    svg = (tmp_path / "B" / "compare.svg").read_text()
    xml.dom.minidom.parseString(svg)  # well-formed
    assert "A: aaaa111" in svg and "B: bbbb222" in svg and "= 0.50 x A" in svg


def test_compare_refuses_a_missing_directory_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, REPO / "benchmarks" / "bench.py", "--compare", tmp_path / "nope",
                           tmp_path], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--compare" in done.stderr and "no such directory" in done.stderr, done.stderr
