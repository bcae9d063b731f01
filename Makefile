# Two commands on a fresh machine: `make synth` and `make test`.
# The first run creates .venv and installs the pinned Python and npm dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# checkov (policy scan of infra/terraform) pins dependencies that clash with the generator's
# toolchain, so it lives in its own venv; the stamp names the version so a bump reinstalls.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
export CHECKOV_BIN := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth check test validate bench deps bytecode tools clean screenshot

deps: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Where Python runs with PYTHONDONTWRITEBYTECODE (this machine sets it), nothing keeps compiled
# modules: every `gitops` run would compile gitops/ and charts/ from source, 0.1-0.17 s of a
# 0.5 s re-synth (measured). Compiled here; cheap when nothing changed (compileall compares
# modification times).
bytecode: deps
	@$(BIN)/python -m compileall -q -j0 gitops charts >/dev/null

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

tools: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

synth: deps bytecode
	$(BIN)/gitops synth

check: deps
	$(BIN)/gitops synth --check

validate: deps
	$(BIN)/gitops validate

test: deps bytecode tools
	$(BIN)/python -m pytest

# README's picture of the release dashboard for the committed platform, without tokens (what a fresh clone sees).
screenshot: deps
	@mkdir -p .cache
	env -u GITHUB_TOKEN -u ARGOCD_AUTH_TOKEN $(BIN)/gitops status --format html --output .cache/status.html
	$(BIN)/python -m tests.browser .cache/status.html docs/status.png

bench: deps bytecode
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .cache
