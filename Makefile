# One task runner for developers; CI (.ci/run) runs `lint`, `typecheck` and the README's test command.
PY ?= .venv/bin/python
BIN = $(dir $(PY))
export QT_QPA_PLATFORM ?= offscreen

.PHONY: help lint format typecheck test-fast test bench check wheel-smoke

help:
	@echo "make lint       ruff check, ruff format --check, lint-imports (the walls between the parts)"
	@echo "make format     ruff format + ruff check --fix"
	@echo "make typecheck  mypy (strict for the pure core, see pyproject.toml)"
	@echo "make test-fast  the tests without the slow end-to-end ones (a few minutes)"
	@echo "make test       every test: what README's command and CI run"
	@echo "make bench      the benchmarks (print figures; see CONTRIBUTING.md)"
	@echo "make check      lint + typecheck + test, as CI"
	@echo "make wheel-smoke  build the wheel, install it in a fresh venv, run the app from there (CI)"

lint:
	$(BIN)ruff check .
	$(BIN)ruff format --check .
	$(BIN)lint-imports

format:
	$(BIN)ruff format .
	$(BIN)ruff check --fix .

typecheck:
	$(BIN)mypy

test-fast:
	$(PY) -m pytest -m "not slow" -q

test:
	$(PY) -m pytest

bench:
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

check: lint typecheck test

wheel-smoke:
	bash .ci/wheel-smoke
