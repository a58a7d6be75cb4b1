# hepatorisk: every target sets up what it needs. `make` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WORK := work
SEED ?= 7

.PHONY: help setup lock system-deps wheelhouse demo full report test lint bench bench-service bench-stages serve sample clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(BIN)/.installed ## create .venv from the dev lock (runtime + test and lint tools)

# Runtime lock (service, training, CLI; the image and `pip install hepatorisk` use it), then the
# dev lock on top of it; both from pyproject.toml, hashed, free of machine-specific index lines.
LOCK_FLAGS := --quiet --allow-unsafe --generate-hashes --no-emit-index-url --no-emit-find-links --strip-extras
lock: ## recompile requirements.lock and requirements-dev.lock from pyproject.toml (needs network)
	$(PYTHON) -m venv $(WORK)/pip-tools && $(WORK)/pip-tools/bin/pip install --quiet pip-tools
	$(WORK)/pip-tools/bin/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(WORK)/pip-tools/bin/pip-compile $(LOCK_FLAGS) --extra=dev -c requirements.lock -o requirements-dev.lock pyproject.toml

demo: setup system-deps ## the main job: cohort, both models trained, gated, exported, reported, then served
	$(BIN)/hepatorisk cohort generate --patients 20000 --seed $(SEED) --out $(WORK)/cohort
	$(BIN)/hepatorisk cohort describe $(WORK)/cohort --json $(WORK)/cohort/describe.json
	$(BIN)/hepatorisk train pipelines/liver_synthetic.yaml
	$(BIN)/hepatorisk train pipelines/relapse_synthetic.yaml
	$(BIN)/hepatorisk promote hepatorisk-liver
	$(BIN)/hepatorisk promote hepatorisk-relapse
	$(BIN)/hepatorisk export models:/hepatorisk-liver@champion --out models/hepatorisk-liver
	$(BIN)/hepatorisk export models:/hepatorisk-relapse@champion --out models/hepatorisk-relapse
	$(MAKE) --no-print-directory report
	$(BIN)/hepatorisk token --caller demo --env-file $(WORK)/service.env
	@echo "Reports: $(WORK)/reports/{liver,relapse}/report.html. Starting the API on 127.0.0.1:8000; the token is in $(WORK)/service.env (mode 600, never printed; Ctrl-C stops it; README: Prediction service)"
	$(MAKE) --no-print-directory serve

# Issue 13's per-landmark bars (model / oracle AUROC >= 0.97, calibration slope 0.9-1.1 at every
# landmark) are measured on a cohort large enough to tell them from sampling noise: each
# synthetic pipeline's full-size variant (pipelines/*_full.yaml: 200,000 patients in
# work/cohort-full, the scenario cohorts beside it). Registered as challengers.
full: setup ## both synthetic pipelines on 200,000 patients, where issue 13's per-landmark bars are measured (52 min on 2 cores, README)
	$(BIN)/hepatorisk train pipelines/liver_synthetic_full.yaml
	$(BIN)/hepatorisk train pipelines/relapse_synthetic_full.yaml

report: setup system-deps ## the review-board report (HTML, PDF, JSON) of both synthetic champions
	$(BIN)/hepatorisk report models:/hepatorisk-liver@champion --out $(WORK)/reports/liver
	$(BIN)/hepatorisk report models:/hepatorisk-relapse@champion --out $(WORK)/reports/relapse

system-deps: ## Debian packages the tests need (headless Chromium, pdftoppm; PostgreSQL for the audit and stack tests; docker-compose to validate serve/docker-compose.yml)
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v docker-compose >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils postgresql docker-compose >/dev/null)

# Fresh environments in tests/integration/test_stack.py install from these files only (pip with
# no index and no configuration): the runtime lock's wheels, the pip/setuptools/wheel that MLflow
# pins in a model's python_env.yaml, and hepatorisk's own wheel. Made here, before the tests,
# because it needs the package index; the tests never reach the network.
wheelhouse: $(WORK)/wheelhouse/.complete ## wheels of the runtime lock and hepatorisk's wheel for the fresh-environment tests (needs the package index)
	rm -rf $(WORK)/dist && $(BIN)/python -m pip wheel --quiet --no-deps -w $(WORK)/dist .

$(WORK)/wheelhouse/.complete: requirements.lock $(BIN)/.installed
	$(BIN)/python -m pip download --quiet --require-hashes -r requirements.lock -d $(WORK)/wheelhouse
	$(BIN)/python -m pip download --quiet -d $(WORK)/wheelhouse wheel \
		"pip==$$($(BIN)/python -m pip --version | cut -d' ' -f2)" \
		"setuptools==$$($(BIN)/python -c 'import setuptools; print(setuptools.__version__)')"
	touch $@

test: setup system-deps wheelhouse ## lint, type-check, check the import layers, run every test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: setup ## ruff check and format, import layers, types
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

bench: setup ## benchmarks (time and peak memory), printed with their peer
	$(BIN)/python bench/run.py
	$(BIN)/python bench/train.py
	$(BIN)/python bench/report.py

bench-service: setup ## the API against mlflow models serve, same run, ratios (needs wrk)
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/service.py

bench-stages: setup ## /v1/assess per stage (parse ... encode): ms and share, 1/100/1,000 patients
	$(BIN)/python bench/stages.py

bench-scale: setup ## scale-out: partitioned generation, streamed scoring, 1 vs 2 Dask workers
	$(BIN)/python bench/scale.py

serve: setup ## run the prediction API on 127.0.0.1:8000 with the registered champions
	$(BIN)/hepatorisk serve $(if $(wildcard $(WORK)/service.env),--env-file $(WORK)/service.env)

sample: setup ## regenerate the committed 2,000-patient sample in data/synthetic/sample
	$(BIN)/hepatorisk cohort generate --patients 2000 --seed $(SEED) --out data/synthetic/sample

clean: ## remove generated work (keeps .venv)
	rm -rf $(WORK) mlruns mlartifacts mlflow.db
