# Every target creates and reuses .venv itself, so `make run` and `make test`
# are the only set-up a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= var/demo
DEMO_EMPLOYERS ?= 20000
DEMO_YEARS ?= 6
DEMO_SEED ?= 20261204

.PHONY: run test bench lint venv demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/injury-risk demo-data --out $(DEMO_DIR) --employers $(DEMO_EMPLOYERS) --years $(DEMO_YEARS) --seed $(DEMO_SEED)
	$(BIN)/injury-risk db upgrade
	$(BIN)/injury-risk ingest --skip-invalid $(DEMO_DIR)/exports/*

run: demo
	$(BIN)/injury-risk train
	$(BIN)/injury-risk backtest --report-out var/backtest.json
	$(BIN)/injury-risk promote

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check risk training api tests benchmarks

clean:
	rm -rf var .pytest_cache
