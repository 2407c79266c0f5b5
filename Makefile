# Maestro ML developer commands. Every target bootstraps the virtualenv itself, so a fresh clone
# needs only Python 3.11+ and Node 20 (for the CDK's jsii runtime).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
BIN       := $(VENV)/bin
UV_VERSION := 0.13.9
# Prefer the Lambda runtime's Python (3.12); a pyenv shim that cannot run is skipped.
PYTHON ?= $(shell for c in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3.13 python3.11 python3; do \
            "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo "$$c"; break; }; done)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_OUTDIR ?= cdk.out

.PHONY: help install console browser serve test test-unit test-integration test-infra test-e2e fuzz lint bench synth deploy openapi clean

help:
	@echo "make serve  - run the whole platform locally on the embedded AWS emulator"
	@echo "make test   - run the whole test suite (unit, integration, infra; e2e when configured)"
	@echo "make fuzz   - a deep property-based fuzz run over the OpenAPI document (10 minutes)"
	@echo "make lint | bench | synth | deploy | openapi | clean"

# The stamp depends on the lock and the project file: editing either reinstalls.
$(VENV)/.installed: requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(VENV)/.installed

# The web console: npm installs the pinned front-end stack (package-lock.json) and builds it against the
# committed OpenAPI document, so a changed route breaks this build (its typed client), not a page.
CONSOLE := shared/maestro/console
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src -type f ! -name schema.d.ts 2>/dev/null) $(CONSOLE)/index.html \
	$(CONSOLE)/vite.config.ts $(CONSOLE)/tsconfig.json functions/openapi/openapi.json
$(CONSOLE)/node_modules/.installed: $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
$(CONSOLE)/dist/index.html: $(CONSOLE)/node_modules/.installed $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npm run --silent build
console: $(CONSOLE)/dist/index.html

# The browser tests drive Debian's Chromium (headless) through its chromedriver; installed here when
# missing and this user may (CI runs as root), else those tests skip and say why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 \
			|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }; \
		else echo "chromium and chromedriver are missing and cannot be installed here (not root): browser tests will skip"; fi; }

serve: install console
	$(BIN)/maestro local serve

# loadfile: each module's tests on one worker, so a module starts its local platform (or synth) once.
# (loadgroup would say the same with xdist_group marks, but pytest-xdist 3.8 silently stops grouping on
# pytest 9.2's structured node ids: pytest-dev/pytest-xdist#1386.)
test: install console browser
	$(BIN)/python -m pytest -n 2 --dist loadfile tests

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-integration: install
	$(BIN)/python -m pytest tests/integration

test-infra: install
	$(BIN)/python -m pytest tests/infra

test-e2e: install
	$(BIN)/python -m pytest tests/e2e

# The deep fuzz run: FUZZ_SECONDS per caller (admin, read-only, another tenant's admin), a random seed printed
# for replay (MAESTRO_FUZZ_SEED=<seed> make fuzz); FUZZ_EXAMPLES caps the cases per operation and phase.
FUZZ_SECONDS ?= 200
fuzz: install
	MAESTRO_FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_EXAMPLES),MAESTRO_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)) \
		$(BIN)/python -m pytest tests/fuzz -s -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	@$(BIN)/python -m tests.bench

openapi: install
	$(BIN)/python -m maestro.local.openapi --write

# A real synth: layers and function bundles are built locally (no Docker), cdk-nag runs.
synth: install
	$(BIN)/python infra_cdk/app.py
	@echo "template in $(CDK_OUTDIR)/"

deploy: install console
	npx --yes aws-cdk@2 deploy --app "$(BIN)/python infra_cdk/app.py" --require-approval never \
		--outputs-file $(CDK_OUTDIR)/outputs.json $(DEPLOY_ARGS)
	$(BIN)/maestro console publish --outputs $(CDK_OUTDIR)/outputs.json

# Regenerate the lock after editing pyproject.toml.
lock: install
	$(BIN)/uv pip compile --universal --python-version 3.11 --extra dev pyproject.toml -o requirements.lock

clean:
	rm -rf $(VENV) cdk.out .maestro layers/*/build .pytest_cache .mypy_cache .ruff_cache $(CONSOLE)/node_modules $(CONSOLE)/dist
