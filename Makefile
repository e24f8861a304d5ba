# Partner loyalty platform — one entry point for developers, CI and operators.
# One Python: the Lambda runtime's (template.yaml Globals Runtime) runs the tests, the tools and the build.
PY ?= $(RUNTIME_PY)
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
STAMP := $(VENV)/.installed
STACK ?= loyalty
# The SAM CLI lives in its own virtualenv (its pins clash with moto's and checkov's).
SAMVENV := .venv-sam
SAM = SAM_CLI_TELEMETRY=0 $(SAM_PATH) $(SAMVENV)/bin/sam
# What a build depends on: the template and every file of the layer and of the functions.
BUILD_INPUTS := template.yaml $(shell find layers/common functions -type f -not -path '*/__pycache__/*' -not -name '*.pyc')
# The handler import check needs a build that runs here; the deployed build stays arm64.
HOST_ARCH := $(subst aarch64,arm64,$(shell uname -m))
HOST := .aws-sam/host
# The Lambda runtime's Python (template.yaml Globals Runtime): sam build needs it on PATH and the
# import check runs on it. A real one on PATH, else pyenv's (the machine image has 3.10-3.13).
RUNTIME := $(shell sed -n 's/^ *Runtime: *\(python3\.[0-9]*\).*/\1/p' template.yaml | head -1)
RUNTIME_PY := $(or $(shell $(RUNTIME) -c 'import sys; print(sys.executable)' 2>/dev/null),$(lastword $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(subst python,,$(RUNTIME)).*/bin/$(RUNTIME))))
SAM_PATH := PATH=$(dir $(RUNTIME_PY)):$$PATH

.PHONY: help system-packages venv demo test test-fast up portal screenshots lint typecheck cfnlint checkov bench build runtime-python deploy clean

help:
	@echo "make demo   - run the whole pipeline end to end on the embedded local cloud"
	@echo "make test   - unit, integration and e2e tests + lint checks (what CI runs)"
	@echo "make up     - serve the local cloud on 127.0.0.1:4566 as stack '$(STACK)'"
	@echo "make portal - the same with the portal demo data: pages and API on 127.0.0.1:4580"
	@echo "make lint   - ruff, mypy, import contracts, cfn-lint, checkov"
	@echo "make bench  - benchmarks -> bench/results.json"
	@echo "make build  - sam validate --lint, sam build (arm64, what deploy ships) and a host build for the import check"
	@echo "make deploy - sam build && sam deploy to AWS (needs AWS credentials)"

# What WeasyPrint (certificates, statement PDFs) needs of the system: Pango, HarfBuzz's subsetter
# (fast font embedding) and DejaVu fonts (Cyrillic); and Debian's Chromium, which the browser
# tests drive through Playwright (executable_path: Playwright downloads no browser). Installed
# with apt when missing.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing"; \
	  (apt-get install -y -q $$missing >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null)); \
	fi

$(STAMP): pyproject.toml | runtime-python system-packages
	$(PY) -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(TOOLS)/.installed: requirements-tools.txt | runtime-python
	$(PY) -m venv --clear $(TOOLS)
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $(TOOLS)/.installed

$(SAMVENV)/.installed: requirements-sam.txt | runtime-python
	$(PY) -m venv --clear $(SAMVENV)
	$(SAMVENV)/bin/pip install -q -r requirements-sam.txt
	touch $(SAMVENV)/.installed

# Each step re-runs only when an input changed (sam build --cached then rebuilds the layer from
# .aws-sam/deps unless layers/common/requirements.txt changed).
.aws-sam/validated: template.yaml $(SAMVENV)/.installed
	$(SAM) validate --lint
	mkdir -p .aws-sam && touch $@

runtime-python:
	@test -x "$(RUNTIME_PY)" || { echo "no $(RUNTIME) (template.yaml Runtime) found: install it or put it on PATH"; exit 1; }

.aws-sam/build/.built: $(BUILD_INPUTS) $(SAMVENV)/.installed | runtime-python
	$(SAM) build --cached --parallel
	touch $@

# Same template with the host architecture, built in its own folder (its own .aws-sam/deps too:
# sam build removes the dependency folders another build graph uses).
$(HOST)/build/.built: $(BUILD_INPUTS) $(SAMVENV)/.installed | runtime-python
	mkdir -p $(HOST)
	sed 's/\barm64\b/$(HOST_ARCH)/g' template.yaml > $(HOST)/template.yaml
	cd $(HOST) && SAM_CLI_TELEMETRY=0 $(SAM_PATH) $(CURDIR)/$(SAMVENV)/bin/sam build --cached --parallel \
		--template-file template.yaml --base-dir $(CURDIR) --build-dir build --cache-dir cache
	echo $(RUNTIME_PY) > $(HOST)/python
	touch $@

build: .aws-sam/validated .aws-sam/build/.built $(HOST)/build/.built

demo: $(STAMP)
	$(BIN)/loyalty demo

up: $(STAMP)
	$(BIN)/loyalty up --stack-name $(STACK)

portal: $(STAMP)
	$(BIN)/loyalty up --demo --stack-name $(STACK)

# the README's pictures: the browser tests' screenshots of the last run (artifacts/screenshots/)
screenshots: $(STAMP)
	$(BIN)/pytest -q -p no:randomly tests/e2e/browser
	mkdir -p docs/screenshots
	cp artifacts/screenshots/*.png docs/screenshots/

lint: $(STAMP) $(TOOLS)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/loyalty local/loyalty_local local/loyalty_cli local/loyalty_factories functions bench
	$(BIN)/lint-imports
	$(BIN)/cfn-lint template.yaml
	$(TOOLS)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

# tests/deploy imports every handler against the host build of the layer.
# The test files run in parallel, one worker per core (`--dist loadfile`: a file's tests share a
# worker, so module fixtures are built once); every test stays independent of the others.
test: lint build
	$(BIN)/pytest -n auto --dist loadfile

test-fast: $(STAMP)
	$(BIN)/pytest -n auto --dist loadfile tests/unit tests/integration

bench: $(STAMP)
	$(BIN)/python bench/run.py

deploy: $(SAMVENV)/.installed | runtime-python
	$(SAM) build && $(SAM) deploy --guided --stack-name $(STACK)

clean:
	rm -rf $(VENV) $(TOOLS) $(SAMVENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# -- issue 12: the portal API's OpenAPI document, generated from the resolvers (finance helper) --
.PHONY: openapi
openapi: $(STAMP)
	$(BIN)/python -m loyalty_cli.openapi
