# The two Quick start commands: `make run` and `make test`. Each creates .venv when it is
# missing and (re)installs the project when pyproject.toml changed.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test lint bench soak clean

$(STAMP): pyproject.toml lua_bindings/_watchdog.c lua_bindings/_allocator.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/actors run examples/demo demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: $(STAMP) lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The faults suite in full (tests/faults; `make test` runs its short form): workers and the
# Temporal server killed under load, 10 000 processes, 100 000 spawn/exit cycles. Prints
# `fault NAME METRIC VALUE` lines.
soak: $(STAMP)
	ACTORS_SOAK=1 $(PY) -m pytest -s tests/faults

bench: $(STAMP)
	$(PY) -m benchmarks all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis .actors
