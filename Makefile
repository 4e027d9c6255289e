# Styrhjul: the two commands a fresh machine needs are `make run` and `make test`.
# Everything is installed from requirements.lock into .venv; system packages
# (PostgreSQL for the test suite) by scripts/install-system-deps.sh.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint lock clean bench

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## The main job on the embedded defaults (SQLite and a Maildir under ./data):
## create the database with the example organisation, plan the next dialog round,
## then do what is due (open preparations, send the invites to data/mail); last, one
## catch-up pass of the daemon (plan this year and the next, the directors' digest).
run: install
	$(BIN)/styrhjul init --example
	$(BIN)/styrhjul plan
	$(BIN)/styrhjul run
	$(BIN)/styrhjul daemon --once --log-format text

## The whole test suite, with lint and the layer contracts, against SQLite and a
## private PostgreSQL server that the suite starts itself.
test: install
	bash scripts/install-system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	npm ci --silent --no-audit --no-fund
	$(BIN)/pytest -n 2 -p no:cacheprovider

## Benchmarks (bench/run.py): every workload against its floor and peer in one run,
## each in its own process; results in bench/results/ (JSON and a Markdown table).
## A 10-minute budget on 2 cores (what overruns it is interrupted): not part of `make test`.
bench: install
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## Re-pin every dependency after changing pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
