"""The one list of Debian packages: install-deps installs it, preflight names what is missing."""

import subprocess

from ceph_conformance.host import packages


def test_every_group_is_known_and_every_package_listed_once():
    pkgs = packages.packages()
    assert {p.group for p in pkgs} == {"cluster", "tools", "clients", "rook", "base", "testbed", "pages",
                                       "s3clients", "perf", "images"}
    names = [p.name for p in pkgs]
    assert len(names) == len(set(names)) and "ceph-osd" in names and "mariadb-server" in names


def test_missing_names_the_package_of_each_missing_program(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing is on this PATH
    pkgs, programs = packages.missing("tools")
    assert pkgs == ["ceph-common"] and "radosgw-admin" in programs
    (tmp_path / "rados").write_text("#!/bin/sh\n")
    (tmp_path / "rados").chmod(0o755)
    assert "rados" not in packages.missing("tools")[1]


def test_install_deps_reads_the_same_list():
    script = packages.LIST.parents[2] / "scripts" / "install-deps"
    listed = subprocess.run([script, "--list"], capture_output=True, text=True, check=True).stdout.split()
    assert listed == [p.name for p in packages.packages()]
