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
# pip on some machines names local index folders that hold only some packages; its complaint is noise
PIP_NOISE := is ignored: it is neither a file nor a directory

COLLECTION_COPY := build/ansible_collections/vcf/sddc_manager
SEED_PIP := $(CURDIR)/../shared/tools/seed-ansible-test-pip
SANITY_PYTHON ?= 3.11
SANITY_ARGS ?=

# `make test` runs these in order, goes on past a failure, and fails at the end if any failed.
TEST_TARGETS := units sanity integration

.PHONY: help venv units sanity integration test demo clean

help:
	@echo "make venv         .venv with tests/requirements.txt ($(PYTHON))"
	@echo "make units        pytest tests/unit (and tests/simulator/tests)"
	@echo "make sanity       ansible-test sanity on a copy in $(COLLECTION_COPY)"
	@echo "make integration  pytest tests/integration"
	@echo "make test         $(TEST_TARGETS)"
	@echo "make demo         tests/utils/demo.sh"
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

sanity: $(VENV_STAMP)
	@test ! -e tests/sanity || [ -z "$$(find tests/sanity -name 'ignore-*.txt')" ] \
	  || { echo "tests/sanity/ignore-*.txt must not exist: fix the finding instead" >&2; exit 1; }
	tests/utils/stage-collection.sh $(COLLECTION_COPY)
	@if [ -f "$(SEED_PIP)" ]; then bash "$(SEED_PIP)" $(VPY); fi
	cd $(COLLECTION_COPY) && PATH="$(dir $(VPY)):$$PATH" \
	  ansible-test sanity --python $(SANITY_PYTHON) --venv --color no $(SANITY_ARGS) 2>&1 \
	  | { grep --line-buffered -v '$(PIP_NOISE)' || true; }

# Until tests/integration holds pytest files there is nothing to run; pytest is not started, as its
# exit code 5 ("no tests collected") would otherwise fail the target. Once files exist, exit 5 fails.
integration: $(VENV_STAMP)
	@if [ -z "$$(find tests/integration -name 'test_*.py' -o -name '*_test.py' 2>/dev/null)" ]; then \
	  echo "integration: tests/integration holds no pytest files yet; nothing to run"; exit 0; fi; \
	export PYTHONPATH="$$($(VPY) tests/utils/pyroot.py)$${PYTHONPATH:+:$$PYTHONPATH}"; \
	export ANSIBLE_COLLECTIONS_PATH="$$($(VPY) tests/utils/pyroot.py)"; \
	set -x; $(VPY) -m pytest -q tests/integration $(PYTEST_ARGS)

test: $(VENV_STAMP)
	@failed=""; summary=""; \
	for t in $(TEST_TARGETS); do \
	  start=$$SECONDS; \
	  if $(MAKE) --no-print-directory $$t; then st=ok; else st=FAILED; failed="$$failed $$t"; fi; \
	  summary+="$$(printf '  %-12s %-6s %4ss' $$t $$st $$((SECONDS - start)))"$$'\n'; \
	done; \
	printf '\nmake test summary:\n%s' "$$summary"; \
	if [ -n "$$failed" ]; then echo "make test FAILED:$$failed"; exit 1; fi

demo: $(VENV_STAMP)
	export PATH="$(dir $(VPY)):$$PATH" ANSIBLE_COLLECTIONS_PATH="$$($(VPY) tests/utils/pyroot.py)"; \
	bash tests/utils/demo.sh

clean:
	rm -rf $(VENV) build tests/output .pytest_cache .hypothesis
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
