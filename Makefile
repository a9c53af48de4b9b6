# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint typecheck rules-check unit integration test-apache bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: start the embedded broker, the worker, a local webhook receiver, and publish samples
run: $(STAMP)
	$(BIN)/newsalert run --demo

## test: lint, type-check, validate and test the shipped rules, then the whole pytest suite
test: lint typecheck rules-check
	@bash tests/e2e/setup.sh || echo "Chromium is not installed: the browser tests will be skipped"
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check stream tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

rules-check: $(STAMP)
	$(BIN)/newsalert rules validate rules
	$(BIN)/newsalert rules test rules
	$(BIN)/newsalert rules regress tests/regress/samples.yml

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit tests/rules

integration: $(STAMP)
	$(BIN)/pytest -q -m integration

## test-apache: the integration suite again, on Apache Kafka started from Maven Central jars
test-apache: $(STAMP)
	bash tests/kafka/setup.sh $(BIN)/python
	NEWSALERT_TEST_BROKER=apache $(BIN)/pytest -q -m integration

bench: $(STAMP)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .newsalert-data .pytest_cache .mypy_cache .ruff_cache
