# Two commands on a fresh machine: `make synth` and `make test`.
# The first run creates .venv and installs the pinned Python and npm dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth check test validate bench deps clean

deps: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: deps
	$(BIN)/gitops synth

check: deps
	$(BIN)/gitops synth --check

validate: deps
	$(BIN)/gitops validate

test: deps
	$(BIN)/python -m pytest

bench: deps
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules .cache
