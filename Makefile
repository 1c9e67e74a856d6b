# Two commands do all set-up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SERVE_STAMP := $(VENV)/.serve-stamp
ARGS ?=

.PHONY: serve test lint chromium redis bench fuzz videos clean

# `make serve` installs the package alone (what serving needs; the package's own dependencies
# include the pytest plugin's and the contract kit's); `make test` adds the dev tools (ruff,
# mypy, import-linter, Playwright, Schemathesis, ffmpeg) on top, in the same environment.
$(SERVE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(SERVE_STAMP)

serve: $(SERVE_STAMP)  ## start the mock on http://127.0.0.1:8000 (make serve ARGS="--clock manual")
	$(BIN)/shortapi-mock serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint chromium redis  ## lint, type-check and run every test
	$(BIN)/python -m pytest

# The contract suite (contract_tests/, run by `shortapi-mock contract`): against the in-process
# mock by default, any URL with ARGS="--target http://127.0.0.1:8000", or the live API
# (SHORTAPI_KEY, BUDGET in USD). Other ARGS go to pytest (e.g. --hypothesis-profile=contract-ci).
.PHONY: contract contract-live
BUDGET ?= 1

contract: $(STAMP)  ## contract suite vs the in-process mock; reports/drift.{md,json,xml}
	$(BIN)/shortapi-mock contract --report-dir reports $(ARGS)

contract-live: $(STAMP)  ## contract suite vs the live API (SHORTAPI_KEY, BUDGET=1; ARGS=--dry-run)
	$(BIN)/shortapi-mock contract --target live --budget-usd $(BUDGET) --report-dir reports \
		--hypothesis-profile=contract-nightly --shortapi-record=reports/recorded-live.json \
		--junitxml=reports/contract-live-junit.xml $(ARGS)

# The dashboard's browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download is not used). Installed here when missing and apt-get is usable (root);
# otherwise say why: those tests then skip, and the build goes on.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then \
		:; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium: $(CHROMIUM) missing and no apt-get here: the browser tests will be skipped"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "chromium: $(CHROMIUM) missing; run 'apt-get install chromium' as root to run the browser tests (skipped now)"; \
	else \
		echo "chromium: installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		( apt-get install -y -qq chromium >/dev/null 2>&1 \
		  || ( apt-get update -qq && apt-get install -y -qq chromium >/dev/null ) ) \
		|| echo "chromium: apt-get install chromium failed: the browser tests will be skipped"; \
	fi

# The Redis store's tests run a real redis-server (Debian's package), started by the tests on a
# free loopback port. Installed here when missing and apt-get is usable (root); otherwise say
# why: those tests then skip, and the build goes on.
REDIS_SERVER := /usr/bin/redis-server
redis:
	@if [ -x $(REDIS_SERVER) ] || command -v redis-server >/dev/null 2>&1; then \
		:; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "redis: redis-server missing and no apt-get here: the Redis store tests will be skipped"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "redis: redis-server missing; run 'apt-get install redis-server' as root to run the Redis store tests (skipped now)"; \
	else \
		echo "redis: installing Debian's redis-server for the Redis store tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		( apt-get install -y -qq redis-server >/dev/null 2>&1 \
		  || ( apt-get update -qq && apt-get install -y -qq redis-server >/dev/null ) ) \
		|| echo "redis: apt-get install redis-server failed: the Redis store tests will be skipped"; \
	fi

bench: $(STAMP)  ## wrk against the served mock and Prism; figures to reports/bench.json
	$(BIN)/python bench/run.py $(ARGS)
	$(BIN)/python bench/callbacks.py
	$(BIN)/python bench/fixtures.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/contract_rate.py
	$(BIN)/python bench/backlog.py
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/stores.py

fuzz: $(STAMP)  ## the fuzz property over 100k requests; figures to reports/fuzz.json
	$(BIN)/python bench/fuzz.py $(ARGS)

videos: $(STAMP)  ## re-render the result MP4s in fixtures/videos
	$(BIN)/python fixtures/make_videos.py

clean:
	rm -rf $(VENV) .shortapi-mock .bench reports .pytest_cache .mypy_cache .ruff_cache
