# Every target installs what it needs first; all of them are safe to run again.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends
ARGS ?=

.PHONY: help install system-deps browser-deps workbench stack test check lint format typecheck \
        unit integration e2e ui bench model clean notebooks traffic infrastructure package checkov-venv \
        lock

help:
	@echo "make workbench   start the embedded stack and serve the workbench"
	@echo "make model       retrain the text models and rebuild services/scoring/MODEL_CARD.md"
	@echo "make test        install what is missing, then lint, type-check and run every suite"
	@echo "make unit | integration | e2e | ui   one suite;  make bench   benchmarks -> reports/"
	@echo "make stack       the embedded stack alone;  make clean   remove local state"
	@echo "make notebooks   run the scenario notebooks -> reports/notebooks/ (HTML too)"
	@echo "make traffic     the traffic generator against the local stack (ARGS=--scenario all)"
	@echo "make infrastructure   Terraform and checkov checks;  make package   build/lambda*.zip"
	@echo "make lock        remake constraints.txt, the pinned versions make install uses"

# --- installation -----------------------------------------------------------------------

# The lock pins every version; pyproject.toml keeps the ranges. A changed lock reinstalls.
LOCK := constraints.txt

$(VENV)/.installed: pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c $(LOCK) -e ".[dev]"
	@touch $@

# Remake the lock from pyproject.toml's ranges, keeping its pins (ARGS="--upgrade-package NAME"
# moves one, ARGS="--upgrade" all). It needs only a venv's pip, not the project installed:
# a lock that no longer installs can still be remade.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m infrastructure.packaging.lock $(ARGS)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Java 17 runs DynamoDB Local, npm installs it.
system-deps:
	@command -v java >/dev/null || { echo "installing Java 17"; $(APT_INSTALL) openjdk-17-jre-headless; }
	@command -v npm >/dev/null || { echo "installing Node.js and npm"; $(APT_INSTALL) nodejs npm; }

# Debian's chromium drives the browser tests (Playwright uses it; it downloads no browser).
browser-deps:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium"; $(APT_INSTALL) chromium; }

install: system-deps $(VENV)/.installed node_modules/.installed

# --- running ------------------------------------------------------------------------------

workbench: install
	$(PY) -m services.local up --workbench --exit-with-parent $(ARGS)

stack: install
	$(PY) -m services.local up --exit-with-parent $(ARGS)

# --- checks and test suites ---------------------------------------------------------------

lint: install
	$(PY) -m ruff check services workbench tests infrastructure
	$(PY) -m ruff format --check services workbench tests infrastructure

typecheck: install
	$(PY) -m mypy

check: lint typecheck

format: install
	$(PY) -m ruff check --fix services workbench tests infrastructure
	$(PY) -m ruff format services workbench tests infrastructure

unit: install
	$(PYTEST) -m unit --junitxml=reports/junit-unit.xml $(ARGS)

integration: install
	$(PYTEST) -m integration --junitxml=reports/junit-integration.xml $(ARGS)

e2e: install
	$(PYTEST) -m e2e --junitxml=reports/junit-e2e.xml $(ARGS)

ui: install browser-deps
	$(PYTEST) -m ui --junitxml=reports/junit-ui.xml $(ARGS)

test: install browser-deps checkov-venv check
	$(PYTEST) -m "unit or integration or e2e or ui or notebooks or infrastructure" --junitxml=reports/junit-all.xml $(ARGS)

# The scenario notebooks, executed by papermill (each starts an embedded stack, or attaches to
# the one `make stack` runs) into reports/notebooks/, then rendered to self-contained HTML
# (BokehJS and Panel's scripts and styles inline: the charts draw offline). Parameters pass
# through: make notebooks ARGS="-p USERS 5"; one notebook: make notebooks NOTEBOOK=load_test.
NOTEBOOK ?= *
NOTEBOOKS_OUT := reports/notebooks
notebooks: install
	@mkdir -p $(NOTEBOOKS_OUT)
	@set -e; for notebook in notebooks/$(NOTEBOOK).ipynb; do \
	  name=$$(basename $$notebook .ipynb); \
	  echo "== $$name"; \
	  $(PY) -m papermill --cwd notebooks --log-level WARNING $$notebook $(NOTEBOOKS_OUT)/$$name.ipynb $(ARGS); \
	  $(PY) -m services.traffic.notebook_report $(NOTEBOOKS_OUT)/$$name.ipynb; \
	done
	@echo "reports in $(NOTEBOOKS_OUT)/"

traffic: install
	$(PY) -m services.traffic $(ARGS)

# checkov pins its own dependencies (an older boto3 among them): it gets a venv of its own.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_VERSION ?= 3.3.30
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q "checkov==$(CHECKOV_VERSION)"
	@touch $@

checkov-venv: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

# Terraform fmt/validate/test, and each environment applied to moto's AWS server on loopback,
# planned again (only moto's known gaps may change) and destroyed (validate, test and the
# apply need the AWS provider: see infrastructure/README.md for pointing Terraform at a local
# provider mirror), checkov, the schema check and the Lambda artifact builder.
infrastructure: install checkov-venv
	$(PYTEST) -m infrastructure $(ARGS)

# The Lambda deployment zips (build/lambda.zip, build/lambda-analysis.zip) and their manifests;
# the wheels at the lock's versions.
package: install
	$(PY) -m infrastructure.packaging $(ARGS)

bench: install browser-deps
	$(PY) -m tests.benchmarks $(ARGS)

# Retrain the text models from the pinned data and base weights (torch CPU, about 20 minutes
# on two cores), then measure them into the model card. A fresh clone never needs this: the
# trained files are committed.
model: install
	$(PY) -m pip install -q -e ".[dev,train]"
	$(PY) -m services.scoring.training.train
	$(PY) -m services.scoring.training.finetune --encoder-out build/encoder
	$(PY) -m services.scoring.training.alternatives --encoder build/encoder
	$(PY) -m services.scoring.training.card

clean:
	rm -rf .local reports build .pytest_cache .mypy_cache .ruff_cache
