# Build and test entry points of the vcf.sddc_manager collection (GNU make 4.3+).
# Every target brings .venv up to date first, so a machine with only Python 3.11 and make is enough.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Interpreter that creates .venv: python3.11, else python3 when it is 3.11 or newer.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)

VENV := .venv
VPY := $(CURDIR)/$(VENV)/bin/python
REQUIREMENTS := tests/requirements.txt
VENV_STAMP := $(VENV)/.requirements.stamp
PYTEST_ARGS ?=
# pytest-xdist workers for the integration tests: most of their time is spent waiting - on ansible-playbook, on the
# simulator's clock, on real outages (three role runs through 180 s, a rulebook through 100 s) and the 300-interval
# role wait (five minutes) - so six share two cores well (the five longest, about 18 minutes of waiting between
# them, each hold a worker while they sleep), and work stealing keeps the long ones from queueing behind each other.
# INTEGRATION_WORKERS=0 runs them in one process.
INTEGRATION_WORKERS ?= 6
# pip on some machines names local index folders that hold only some packages; its complaint is noise
PIP_NOISE := is ignored: it is neither a file nor a directory

COLLECTION_COPY := build/ansible_collections/vcf/sddc_manager
# Oldest and newest ansible-core we claim, each on a Python it supports (CORE:PYTHON); see tests/utils/support-matrix.sh
SANITY_MATRIX ?= 2.16:3.10 2.21:3.13
# extra ansible-test options for the full sanity runs, for example SANITY_ARGS="--test pylint"
export SANITY_ARGS ?=

# `make test` runs these in order, goes on past a failure, and fails at the end if any failed.
TEST_TARGETS := units sanity integration lint docs changelog ee matrix bench-quick

.PHONY: help venv units sanity integration test demo clean bench bench-quick bench-scale tools lint docs docs-html changelog ee matrix

help:
	@echo "make venv         .venv with tests/requirements.txt ($(PYTHON))"
	@echo "make units        pytest tests/unit (and tests/simulator/tests)"
	@echo "make sanity       ansible-test sanity on ansible-core $(SANITY_MATRIX) (CORE:PYTHON), on a copy in $(COLLECTION_COPY)"
	@echo "make integration  pytest tests/integration"
	@echo "make test         $(TEST_TARGETS)"
	@echo "make demo         tests/utils/demo.sh"
	@echo "make bench        role vs hand-written uri playbook, N = 1, 10, 50 (bench-quick: smoke, bench-scale: 1,000 tasks)"
	@echo "make lint         ansible-lint, production profile, on the whole collection"
	@echo "make docs         antsibull-docs lint-collection-docs --plugin-docs (guides, plugin and role docs)"
	@echo "make docs-html    render the docs site to build/docs/build/html/index.html (not part of test)"
	@echo "make changelog    antsibull-changelog lint, and a rehearsed release that writes CHANGELOG.rst"
	@echo "make ee           ansible-builder create: execution environment build context in build/ee/"
	@echo "make matrix       unit tests and an integration smoke run on ansible-core $(MATRIX) (CORE:PYTHON)"
	@echo "make clean        remove .venv, build/, tests/output/ and caches"

venv: $(VENV_STAMP)

$(VENV_STAMP): $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11+ is needed; $(PYTHON) is older. Use make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@if ! $(VPY) -c '' 2>/dev/null; then rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(VPY) -m pip install -q -r $(REQUIREMENTS) 2>&1 | { grep -v '$(PIP_NOISE)' || true; }
	@touch $@

units: $(VENV_STAMP)
	$(VPY) -m pytest -q tests/unit $(wildcard tests/simulator/tests) $(PYTEST_ARGS)

# ansible-test sanity on the oldest and the newest ansible-core we claim (SANITY_MATRIX, CORE:PYTHON), each from its
# .venv-matrix-* on a copy in $(COLLECTION_COPY); then compile and import on the other Pythons tests/config.yml claims.
sanity: $(VENV_STAMP)
	COLLECTION_COPY=$(COLLECTION_COPY) bash tests/utils/support-matrix.sh sanity $(VPY) $(SANITY_MATRIX)

# Until tests/integration holds pytest files there is nothing to run; pytest is not started, as its
# exit code 5 ("no tests collected") would otherwise fail the target. Once files exist, exit 5 fails.
integration: $(VENV_STAMP)
	@if [ -z "$$(find tests/integration -name 'test_*.py' -o -name '*_test.py' 2>/dev/null)" ]; then \
	  echo "integration: tests/integration holds no pytest files yet; nothing to run"; exit 0; fi; \
	export PYTHONPATH="$$($(VPY) tests/utils/pyroot.py)$${PYTHONPATH:+:$$PYTHONPATH}"; \
	export ANSIBLE_COLLECTIONS_PATH="$$($(VPY) tests/utils/pyroot.py)"; \
	set -x; $(VPY) -m pytest -q -n $(INTEGRATION_WORKERS) $$([ "$(INTEGRATION_WORKERS)" = 0 ] || echo --dist worksteal) \
	  --durations=12 tests/integration $(PYTEST_ARGS)

test: $(VENV_STAMP)
	@failed=""; summary=""; \
	for t in $(TEST_TARGETS); do \
	  start=$$SECONDS; \
	  if $(MAKE) --no-print-directory $$t; then st=ok; else st=FAILED; failed="$$failed $$t"; fi; \
	  summary+="$$(printf '  %-12s %-6s %4ss' $$t $$st $$((SECONDS - start)))"$$'\n'; \
	done; \
	printf '\nmake test summary:\n%s' "$$summary"; \
	if [ -n "$$failed" ]; then echo "make test FAILED:$$failed"; exit 1; fi

# The benchmark against the hand-written uri playbook (tests/benchmarks/README.md). Only the quick
# smoke run is part of `make test`; the full one takes about five minutes.
bench: $(VENV_STAMP)
	$(VPY) tests/benchmarks/bench.py $(BENCH_ARGS)

bench-quick: $(VENV_STAMP)
	$(VPY) tests/benchmarks/bench.py --quick

bench-scale: $(VENV_STAMP)
	$(VPY) tests/benchmarks/bench.py --scale

# demo.sh installs the collection into build/demo/collections and sets ANSIBLE_COLLECTIONS_PATH to it.
demo: $(VENV_STAMP)
	PATH="$(dir $(VPY)):$$PATH" bash tests/utils/demo.sh

clean:
	rm -rf $(VENV) $(TOOLS_VENV) $(DOCS_VENV) .venv-matrix-* build tests/output .pytest_cache .hypothesis .ansible
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +

# --- Ecosystem checks: lint, docs, changelog, execution environment, support matrix -----------------------
# lint, docs, changelog and ee use .venv-tools (tests/requirements-tools.txt, pinned); the collection is found
# through build/pyroot, as for the integration tests.
TOOLS_VENV := .venv-tools
TOOLS_BIN := $(CURDIR)/$(TOOLS_VENV)/bin
TOOLS_REQUIREMENTS := tests/requirements-tools.txt
TOOLS_STAMP := $(TOOLS_VENV)/.requirements.stamp
TOOLS_ENV = PATH="$(TOOLS_BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$$($(TOOLS_BIN)/python tests/utils/pyroot.py)"
COLLECTION_LINK = $$($(TOOLS_BIN)/python tests/utils/pyroot.py)/ansible_collections/vcf/sddc_manager
# Oldest ansible-core we claim, the one .venv has (tests/requirements.txt) and the newest, each on a Python it supports:
# CORE:PYTHON (see tests/utils/support-matrix.sh). The table in README.md names these.
MATRIX ?= 2.16:3.10 2.19:3.12 2.21:3.13

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): $(TOOLS_REQUIREMENTS)
	@if ! $(TOOLS_BIN)/python -c '' 2>/dev/null; then rm -rf $(TOOLS_VENV) && $(PYTHON) -m venv $(TOOLS_VENV); fi
	$(TOOLS_BIN)/python -m pip install -q -r $(TOOLS_REQUIREMENTS) 2>&1 | { grep -v '$(PIP_NOISE)' || true; }
	@touch $@

# Configuration in .ansible-lint (profile production, strict, offline). Exit code non-zero on any finding.
lint: $(TOOLS_STAMP)
	$(TOOLS_ENV) ansible-lint --nocolor

docs: $(TOOLS_STAMP)
	$(TOOLS_ENV) antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
	  --validate-collection-refs dependent --disallow-unknown-collection-refs "$(COLLECTION_LINK)"
	@echo "docs: guides, plugin and role docs lint clean"

changelog: $(TOOLS_STAMP)
	$(TOOLS_ENV) antsibull-changelog lint
	$(TOOLS_ENV) bash tests/utils/changelog-release.sh build/changelog

ee: $(TOOLS_STAMP)
	$(TOOLS_ENV) bash tests/utils/ee-context.sh build/ee

matrix: $(VENV_STAMP)
	bash tests/utils/support-matrix.sh matrix $(VPY) $(MATRIX)

# The HTML docs site, the way antsibull-docs builds collection sites: sphinx-init, then the two steps of its
# build.sh. Needs Sphinx and the Ansible theme (tests/requirements-docs.txt, in .venv-docs). Without network
# the intersphinx inventories (docs.python.org, docs.ansible.com) cannot be fetched, which only leaves links
# into those sites unresolved; SPHINX_OPTS=-W makes any warning fail the build, as build.sh does.
DOCS_VENV := .venv-docs
DOCS_BIN := $(CURDIR)/$(DOCS_VENV)/bin
DOCS_STAMP := $(DOCS_VENV)/.requirements.stamp
SPHINX_OPTS ?=

$(DOCS_STAMP): tests/requirements-docs.txt
	@if ! $(DOCS_BIN)/python -c '' 2>/dev/null; then rm -rf $(DOCS_VENV) && $(PYTHON) -m venv $(DOCS_VENV); fi
	$(DOCS_BIN)/python -m pip install -q -r tests/requirements-docs.txt 2>&1 | { grep -v '$(PIP_NOISE)' || true; }
	@touch $@

docs-html: $(DOCS_STAMP)
	rm -rf build/docs && mkdir -p build/docs && chmod 700 build/docs
	export PATH="$(DOCS_BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$$($(DOCS_BIN)/python tests/utils/pyroot.py)"; \
	  antsibull-docs sphinx-init --use-current --squash-hierarchy --dest-dir build/docs vcf.sddc_manager >/dev/null; \
	  cd build/docs && mkdir -p rst && chmod og-w rst \
	  && antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --use-current \
	       --squash-hierarchy --dest-dir rst vcf.sddc_manager \
	  && sphinx-build -M html rst build -c . --keep-going -q $(SPHINX_OPTS)
	@test -f build/docs/build/html/docsite/guide_awx.html
	@echo "docs-html: open $(CURDIR)/build/docs/build/html/index.html"
