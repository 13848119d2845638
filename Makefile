# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: demo test check lint typecheck imports pytest fuzz bench clean venv

# the dashboard extra (for demo) and the test tools; `pip install depaudit` alone is the light core
$(BIN)/depaudit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dashboard,test]'
	@touch $@

venv: $(BIN)/depaudit

## make demo: build the sample repositories, collect their history, open the dashboard
demo: venv
	$(BIN)/depaudit demo --port $(PORT)

## make test: lint, type-check, layering, then the test suite
test: venv check pytest

check: lint typecheck imports

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

imports: venv
	$(BIN)/lint-imports

pytest: venv
	$(BIN)/pytest -q -p no:cacheprovider

## make fuzz: the long property-based runs (a fixed budget per property)
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q tests/reliability -k fuzz

bench: venv
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_collect.py

clean:
	rm -rf $(VENV) sample_repos/build bench/out tests/artifacts
