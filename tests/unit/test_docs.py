"""The README stays short, its links lead somewhere, and the docs' Layout names every module there is."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "ceph_conformance"


def test_the_readme_is_at_most_250_lines():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move the detail into a page under docs/"


def test_every_link_of_the_readme_leads_to_a_file_of_the_repository():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", (REPO / "README.md").read_text())
    missing = [link for link in links if "://" not in link and not (REPO / link).exists()]
    assert links and not missing, missing


def _names(directory):
    return sorted(p.name for p in directory.iterdir()
                  if p.name != "__pycache__" and (p.suffix == ".py" or (p / "__init__.py").exists()))


def test_the_layout_names_every_module_of_the_package_root_and_of_targets():
    layout = (REPO / "docs" / "layout.md").read_text()
    shown = set(re.findall(r"^\s+(\S+?)/?\s", layout, flags=re.MULTILINE))
    wanted = {n.removesuffix(".py") for n in _names(PACKAGE) + _names(PACKAGE / "targets")} - {"__init__"}
    missing = sorted(n for n in wanted if n not in {s.removesuffix(".py") for s in shown})
    assert not missing, f"docs/layout.md does not show {missing}: add a line for each"
