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

.PHONY: run test bench lint venv demo clean notebooks

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
	$(BIN)/injury-risk score
	$(BIN)/injury-risk plan --budget-employers 70 --weeks 26 --out var/plan.xlsx
	@echo "demo admin API key / 演示管理员 API 密钥:"; $(BIN)/injury-risk keys create --role admin --label "make run demo" | tail -1
	@echo "demo admin web sign-in / 演示管理员网页登录: admin / $$($(BIN)/injury-risk users create --username admin --role admin --replace 2>/dev/null | tail -1)"
	$(BIN)/injury-risk serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

notebooks: $(STAMP)
	$(BIN)/pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check risk training api tests benchmarks

clean:
	rm -rf var .pytest_cache
