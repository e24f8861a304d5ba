# Partner loyalty platform — one entry point for developers, CI and operators.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
STAMP := $(VENV)/.installed
STACK ?= loyalty

.PHONY: help venv demo test test-fast up lint typecheck cfnlint checkov bench deploy clean

help:
	@echo "make demo   - run the whole pipeline end to end on the embedded local cloud"
	@echo "make test   - unit, integration and e2e tests + lint checks (what CI runs)"
	@echo "make up     - serve the local cloud on 127.0.0.1:4566 as stack '$(STACK)'"
	@echo "make lint   - ruff, mypy, import contracts, cfn-lint, checkov"
	@echo "make bench  - benchmarks -> bench/results.json"
	@echo "make deploy - sam build && sam deploy to AWS (needs AWS credentials and the SAM CLI)"

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(TOOLS)/.installed: requirements-tools.txt
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $(TOOLS)/.installed

demo: $(STAMP)
	$(BIN)/loyalty demo

up: $(STAMP)
	$(BIN)/loyalty up --stack-name $(STACK)

lint: $(STAMP) $(TOOLS)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/loyalty local/loyalty_local local/loyalty_cli local/loyalty_factories functions bench
	$(BIN)/lint-imports
	$(BIN)/cfn-lint template.yaml
	$(TOOLS)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

test: lint
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit tests/integration

bench: $(STAMP)
	$(BIN)/python bench/run.py

deploy:
	sam build --use-container=false && sam deploy --guided --stack-name $(STACK)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
