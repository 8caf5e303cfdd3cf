# Every target creates .venv and installs what it needs, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fakeboxer serve

lint: $(STAMP)
	$(BIN)/ruff check collector api tests loadtests
	$(BIN)/ruff format --check collector api tests loadtests
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest

check: test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
