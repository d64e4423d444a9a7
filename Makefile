# Entry points. `make conformance` and `make test` install what they need first.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
PYTEST := $(VENV)/bin/pytest
PYTEST_ARGS ?=
TEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: deps venv conformance test unit lint bench sweep matrix

deps:
	@scripts/install-deps

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

## Run the project's own tests: unit tests, and the suite run against real clusters broken on purpose.
test: deps venv
	$(PYTEST) tests $(TEST_ARGS)

unit: venv
	$(PYTEST) tests/unit $(TEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	@# The CI workflows: YAML, then GitHub's workflow schema (vendored in check-jsonschema: no network).
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

## Compare runs: bring-up phases, time to HEALTH_OK and the object run, medians over several runs.
bench: deps venv
	$(VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

## Merge finished runs into one page: make matrix RUNS="reports/A reports/B.tar.gz" (default: every run under reports/).
RUNS ?= reports
matrix: venv
	$(VENV)/bin/python -m ceph_conformance matrix $(RUNS) -o reports/matrix.html

## Remove leftovers of crashed or kept runs of the local target.
sweep: venv
	$(VENV)/bin/python -m ceph_conformance sweep --include-kept
