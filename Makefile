# Two commands do all set-up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: serve test lint bench videos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## start the mock on http://127.0.0.1:8000 (make serve ARGS="--clock manual")
	$(BIN)/shortapi-mock serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, type-check and run every test
	$(BIN)/python -m pytest

bench: $(STAMP)  ## wrk against the served mock and Prism; figures to reports/bench.json
	$(BIN)/python bench/run.py $(ARGS)
	$(BIN)/python bench/callbacks.py
	$(BIN)/python bench/fixtures.py

videos: $(STAMP)  ## re-render the result MP4s in fixtures/videos
	$(BIN)/python fixtures/make_videos.py

clean:
	rm -rf $(VENV) .shortapi-mock .bench reports .pytest_cache .mypy_cache .ruff_cache
