# Entry points. `make conformance` and `make test` install what they need first.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
PYTEST := $(VENV)/bin/pytest
PYTEST_ARGS ?=
TEST_ARGS ?=
BENCH_ARGS ?= --shape 3x1 --shape 4x3 --runs 3 -- -m health

.PHONY: deps apps venv conformance test unit lint docs bench sweep matrix testbed rook-on-testbed testbed-down testbed-status ceph-image rook-image

deps:
	@scripts/install-deps
	@# Ghost (the app checks) from the npm registry into /var/cache/ceph-conformance/ghost: a cache hit
	@# once there; without Node.js it says so in one line and the Ghost checks fail saying the same.
	@$(MAKE) --no-print-directory apps || echo "make deps: Ghost not installed (above); the other checks are unaffected"

## Ghost from the npm registry into /var/cache/ceph-conformance/ghost/<version> (also done on the checks' first use).
apps: venv
	@$(VENV)/bin/python -m ceph_conformance.host.npminstall

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

## Run the conformance suite (default target: local, real daemons on this host) and write reports.
conformance: deps venv
	@$(PYTEST) -c pyproject.toml $(PYTEST_ARGS); rc=$$?; \
	echo "reports: $(CURDIR)/reports/latest/ (report.html, junit.xml, results.json)"; exit $$rc

## Run the project's own tests: unit tests, and the suite run against real clusters broken on purpose,
## part by part (unit, pages, integration, testbed) with the caches filled in the background; the closing
## lines say how long each part took. PARTS=unit,pages picks parts; PREBUILD=0 builds nothing ahead.
PARTS ?= unit,pages,integration,testbed
PREBUILD ?= 1
test: deps venv
	$(VENV)/bin/python scripts/project-tests --parts $(PARTS) $(if $(filter 0,$(PREBUILD)),--no-prebuild) -- $(TEST_ARGS)

unit: venv
	$(PYTEST) tests/unit $(TEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	@# The CI workflows: YAML, then GitHub's workflow schema (vendored in check-jsonschema: no network).
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@# The docs site, into site/ (ignored by git); a broken link or a page missing from the nav fails.
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

## The docs site into site/: the check catalogue regenerated from the checks, then mkdocs.
docs: venv
	$(VENV)/bin/python -m ceph_conformance catalogue
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

## Bring-up of two cluster shapes (3 hosts x 1 OSD, 4 x 3), 3 runs each: phases, time to HEALTH_OK, checks;
## median, min, max. BENCH_ARGS="reports/A reports/B" compares finished runs.
bench: deps venv
	$(VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

## Merge finished runs into one page: make matrix RUNS="reports/A reports/B.tar.gz" (default: every run under reports/).
RUNS ?= reports
matrix: venv
	$(VENV)/bin/python -m ceph_conformance matrix $(RUNS) -o reports/matrix.html

## Remove leftovers of crashed or kept runs of the local target.
sweep: venv
	$(VENV)/bin/python -m ceph_conformance sweep --include-kept

## A real Kubernetes on this host, built from the Go module proxy and Debian (docs/testbed.md); prints its
## KUBECONFIG. TESTBED_NODES=0 for the API alone (etcd + kube-apiserver, no root needed).
TESTBED_NODES ?= 2
testbed: deps venv
	$(VENV)/bin/python -m ceph_conformance testbed up --nodes $(TESTBED_NODES)

testbed-status: venv
	$(VENV)/bin/python -m ceph_conformance testbed status

## Rook on a 3-node test bed through --target kubeconfig, the suite with PYTEST_ARGS, all torn down after.
rook-on-testbed: deps venv
	$(VENV)/bin/python -m ceph_conformance rook-on-testbed -- $(PYTEST_ARGS)

## Stop the test bed and remove its directory.
testbed-down: venv
	$(VENV)/bin/python -m ceph_conformance testbed down

## A Ceph image from a Debian release's packages into podman's storage, for --ceph-image (docs/ceph-versions.md):
## make ceph-image RELEASE=trixie (Ceph 18.2) or RELEASE=forky (Ceph 20.2). Cached: a second build is fast.
RELEASE ?= trixie
ceph-image: venv
	$(VENV)/bin/python -m ceph_conformance ceph-image --release $(RELEASE)

## Rook's operator image (README: Rook on Kubernetes): the rook binary of ROOK_VERSION from the Go module
## proxy on the Ceph image it supports, into podman's storage and OCI archives for the test bed's nodes.
ROOK_VERSION ?= 1.12.11
rook-image: venv
	$(VENV)/bin/python -m ceph_conformance rook-image --rook-version $(ROOK_VERSION)
