"""The verdict at a glance: checks placed in a grid of areas (rows) by capabilities (columns), from
capabilities.toml, each cell the worst outcome of its checks; and, for the object area, the checks
summed up by the group a user thinks in (a client such as rclone, or a family of S3 semantics such
as versioning), the optional third element of a check's place."""

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

OTHER = "other"
# Worst first: a cell shows the worst outcome among its checks.
SEVERITY = ("error", "failed", "skipped", "xfailed", "passed")


# The areas whose checks the report also sums up by group.
GROUPED_AREAS = ("object",)


@dataclass(frozen=True)
class FeatureMap:
    capabilities: dict  # name -> what it means, in column order
    areas: dict  # name -> title, in row order
    checks: dict  # check function -> (area, capability)
    groups: dict = field(default_factory=dict)  # name -> what it covers, in summary order
    check_groups: dict = field(default_factory=dict)  # check function -> group (those that have one)

    def place(self, nodeid):
        """(area, capability) of a check; an unlisted one goes to its module's area, capability "other"."""
        placed = self.checks.get(function_name(nodeid))
        if placed:
            return tuple(placed[:2])  # a third element (the object summary's group) is not a cell
        return module_area(nodeid), OTHER

    def group(self, nodeid):
        """The group of a check (a client or a semantic family), or None."""
        return self.check_groups.get(function_name(nodeid))


def load(text):
    """A FeatureMap from capabilities.toml's text. A check's place is [area, capability] or
    [area, capability, group]."""
    data = tomllib.loads(text)
    checks, groups = {}, {}
    for name, place in data["checks"].items():
        if not isinstance(place, list) or len(place) not in (2, 3) or not all(isinstance(p, str) for p in place):
            raise ValueError(f"capabilities.toml: {name} = {place!r}: expected [area, capability] or "
                             "[area, capability, group]")
        checks[name] = tuple(place[:2])
        if len(place) == 3:
            groups[name] = place[2]
    return FeatureMap(data["capabilities"], data["areas"], checks, data.get("groups", {}), groups)


@cache
def feature_map():
    return load(resources.files(__package__).joinpath("capabilities.toml").read_text())


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


@dataclass
class Group:
    name: str
    meaning: str
    checks: list = field(default_factory=list)  # results.json entries

    @property
    def outcome(self):
        return worst(c["outcome"] for c in self.checks)

    @property
    def lead(self):
        """The first check of the worst outcome: where the summary links to."""
        return next(c for c in self.checks if c["outcome"] == self.outcome)

    @property
    def text(self):
        """"pass" when every check passed, else what went wrong: "1 failed", "2 failed, 1 error",
        "skipped" (every check skipped)."""
        counts = {o: sum(1 for c in self.checks if c["outcome"] == o) for o in SEVERITY}
        if counts["passed"] == len(self.checks):
            return "pass"
        if counts["skipped"] == len(self.checks):
            return "skipped"
        bad = [f"{counts[o]} {o}" for o in ("failed", "error", "skipped", "xfailed") if counts[o]]
        return ", ".join(bad)


def groups(checks, area="object", fmap=None):
    """The checks of an area by group, in capabilities.toml's order of groups ([groups]); checks
    without a group come last, under "other". An empty list when no check of the area ran."""
    fmap = fmap or feature_map()
    found = {}
    for check in checks:
        if fmap.place(check["nodeid"])[0] != area:
            continue
        name = fmap.group(check["nodeid"]) or OTHER
        found.setdefault(name, Group(name, fmap.groups.get(name, "checks not yet given a group"))).checks.append(check)
    order = {g: i for i, g in enumerate(fmap.groups)}
    return sorted(found.values(), key=lambda g: (g.name == OTHER, order.get(g.name, len(order)), g.name))


def summary_line(grouped):
    """"registry: pass, rclone: pass, versioning: 1 failed" """
    return ", ".join(f"{g.name}: {g.text}" for g in grouped)
