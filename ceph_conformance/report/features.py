"""The verdict at a glance: checks placed in a grid of areas (rows) by capabilities (columns), from
capabilities.toml, each cell the worst outcome of its checks."""

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

OTHER = "other"
# Worst first: a cell shows the worst outcome among its checks.
SEVERITY = ("error", "failed", "skipped", "passed")


@dataclass(frozen=True)
class FeatureMap:
    capabilities: dict  # name -> what it means, in column order
    areas: dict  # name -> title, in row order
    checks: dict  # check function -> (area, capability)

    def place(self, nodeid):
        """(area, capability) of a check; an unlisted one goes to its module's area, capability "other"."""
        placed = self.checks.get(function_name(nodeid))
        if placed:
            return tuple(placed[:2])  # an object check's optional third element is its summary group
        return module_area(nodeid), OTHER


@cache
def feature_map():
    data = tomllib.loads(resources.files(__package__).joinpath("capabilities.toml").read_text())
    return FeatureMap(data["capabilities"], data["areas"], data["checks"])


def function_name(nodeid):
    """suites/test_object.py::test_put_get_roundtrip[1KiB] -> test_put_get_roundtrip"""
    return nodeid.split("::")[-1].split("[")[0]


def module_area(nodeid):
    match = re.search(r"test_(\w+)\.py", nodeid.split("::")[0])
    return match[1] if match else OTHER


def anchor(nodeid):
    """An HTML id for a check's details: letters, digits and dashes only."""
    return "check-" + re.sub(r"[^A-Za-z0-9]+", "-", nodeid.split("::", 1)[-1]).strip("-")


def worst(outcomes):
    present = set(outcomes)
    return next((o for o in SEVERITY if o in present), None)


def first_line(text, limit=160):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class Cell:
    area: str
    capability: str
    checks: list = field(default_factory=list)  # results.json entries

    @property
    def outcome(self):
        return worst(c["outcome"] for c in self.checks)

    def count(self, outcome):
        return sum(1 for c in self.checks if c["outcome"] == outcome)

    @property
    def reason(self):
        """Why the cell is not green: the first line of the first worst check's message."""
        if self.outcome in (None, "passed"):
            return ""
        return first_line(next(c for c in self.checks if c["outcome"] == self.outcome).get("message"))


@dataclass
class Matrix:
    areas: list  # [(name, title)] rows that have checks
    capabilities: list  # [(name, meaning)] columns that have checks
    cells: dict  # (area, capability) -> Cell
    not_run: list = field(default_factory=list)  # [(name, title)] areas none of whose checks ran

    def cell(self, area, capability):
        return self.cells.get((area, capability))


def build(checks, fmap=None):
    """The feature matrix of one run's checks (results.json "checks")."""
    fmap = fmap or feature_map()
    cells = {}
    for check in checks:
        area, capability = fmap.place(check["nodeid"])
        cells.setdefault((area, capability), Cell(area, capability)).checks.append(check)
    used_areas = {a for a, _ in cells}
    used_caps = {c for _, c in cells}
    areas = [(a, t) for a, t in fmap.areas.items() if a in used_areas]
    areas += [(a, a) for a in sorted(used_areas - set(fmap.areas))]
    caps = [(c, m) for c, m in fmap.capabilities.items() if c in used_caps]
    if OTHER in used_caps:
        caps.append((OTHER, "checks not yet placed in capabilities.toml"))
    not_run = [(a, t) for a, t in fmap.areas.items() if a not in used_areas]
    return Matrix(areas, caps, cells, not_run)
