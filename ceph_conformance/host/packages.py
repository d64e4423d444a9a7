"""The Debian packages the suite needs, read from the one list that scripts/install-deps installs."""

import shutil
from dataclasses import dataclass
from pathlib import Path

LIST = Path(__file__).with_name("debian-packages.txt")


@dataclass(frozen=True)
class Package:
    name: str
    group: str
    programs: tuple


def packages():
    found = []
    for line in LIST.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            found.append(Package(fields[0], fields[1], tuple(fields[2:])))
    return found


def missing(*groups):
    """(packages, programs) of the given groups whose programs are not on PATH, sorted."""
    pkgs, programs = set(), []
    for pkg in packages():
        if pkg.group in groups:
            gone = [p for p in pkg.programs if shutil.which(p) is None]
            if gone:
                pkgs.add(pkg.name)
                programs += gone
    return sorted(pkgs), programs
