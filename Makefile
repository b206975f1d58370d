# Quick start (fresh machine with Python 3.11+):
#   make example   # create .venv, install, classify the bundled example
#   make test      # create .venv, install, run the whole test suite (+ ruff, mypy)
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup example test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

setup: $(BIN)/.installed

example: setup
	$(BIN)/giamngheo classify examples/survey.xlsx -o out/results.xlsx --as-of 2025-06-30

test: setup
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check engine household_models cli tests benchmarks
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/bench_classify.py --households 400000

clean:
	rm -rf $(VENV) out build *.egg-info
