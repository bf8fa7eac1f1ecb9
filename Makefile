# openbeat: the two commands are `make run` and `make test`; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where `make run` keeps its broker, its dev key and the published tree (all ignored by git).
VAR := var
export OPENBEAT_STORE ?= $(CURDIR)/$(VAR)/store

# make test runs two pytest-xdist workers, each with its own broker: the suite mostly waits on
# brokers, consumer groups and subprocess services, which two workers overlap on 2 cores (481 s
# against 664 s in one process on this machine). `make test TEST_WORKERS=` runs one process.
# --dist loadfile keeps a module's tests (and its module fixtures) on one worker.
TEST_WORKERS ?= 2

.PHONY: run test lint bench chaos up down topics clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

up: venv
	@infra/kafka.sh start

down:
	@infra/kafka.sh stop

topics: up
	@$(BIN)/openbeat topics apply

run: venv up
	@bash infra/run-demo.sh

test: venv
	@infra/nginx/ensure-nginx.sh >/dev/null
	@infra/test-deps.sh
	@$(BIN)/python -m pytest -q $(if $(TEST_WORKERS),-n $(TEST_WORKERS) --dist loadfile)

lint: venv
	@$(BIN)/ruff check services tests
	@$(BIN)/ruff format --check services tests
	@$(BIN)/mypy

bench: venv up
	@$(BIN)/python -m bench.run

# The chaos run: its own broker (CHAOS_KAFKA_PORT, default 19444) and moto S3; bench/chaos.json.
chaos: venv
	@$(BIN)/python -m bench.chaos

clean: down
	rm -rf $(VAR) infra/kafka/run .pytest_cache .mypy_cache .ruff_cache
