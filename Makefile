# hepatorisk: every target sets up what it needs. `make` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WORK := work
SEED ?= 7

.PHONY: help setup demo test lint bench sample clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(BIN)/.installed ## create .venv from the lock file

demo: setup ## the main job: generate the synthetic cohort and describe it
	$(BIN)/hepatorisk cohort generate --patients 20000 --seed $(SEED) --out $(WORK)/cohort
	$(BIN)/hepatorisk cohort describe $(WORK)/cohort --json $(WORK)/cohort/describe.json

test: setup ## lint and run every test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m pytest

lint: setup ## ruff check and format
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: setup ## benchmarks (time and peak memory), printed with their peer
	$(BIN)/python bench/run.py

sample: setup ## regenerate the committed 2,000-patient sample in data/synthetic/sample
	$(BIN)/hepatorisk cohort generate --patients 2000 --seed $(SEED) --out data/synthetic/sample

clean: ## remove generated work (keeps .venv)
	rm -rf $(WORK) mlruns mlflow.db
