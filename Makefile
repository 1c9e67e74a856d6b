# Two commands do all set-up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SERVE_STAMP := $(VENV)/.serve-stamp
ARGS ?=

.PHONY: help serve test lint chromium redis clients bench fuzz videos clean
.DEFAULT_GOAL := help

# A .venv whose python no longer runs (the Python it was made with was upgraded or removed,
# or the folder was copied from another machine) is made anew rather than failing later: by
# the targets that install into it, when they run (not `make help`, not `make -n`).
ifneq ($(wildcard $(VENV)/pyvenv.cfg),)
ifneq ($(shell $(BIN)/python -c 'print(42)' 2>/dev/null),42)
BROKEN_VENV := broken-venv
endif
endif

.PHONY: broken-venv
broken-venv:
	@echo "$(VENV): its python does not run (was Python upgraded or removed?); making it anew"
	rm -rf $(VENV)

help:  ## list the targets (this text)
	@echo "make TARGET [ARGS=...]; set-up is automatic (serve: the package; test: the dev tools)"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' \
		| awk -F'\t' '{ printf "  %-14s %s\n", $$1, $$2 }'

# `make serve` installs the package alone (what serving needs; the package's own dependencies
# include the pytest plugin's); `make test` adds the contract extra (hypothesis) and the dev
# tools (ruff, mypy, import-linter, Playwright, Schemathesis, ffmpeg) in the same environment.
$(SERVE_STAMP): pyproject.toml $(BROKEN_VENV)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE_STAMP)

$(STAMP): pyproject.toml $(BROKEN_VENV)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(SERVE_STAMP)

serve: $(SERVE_STAMP)  ## start the mock on http://127.0.0.1:8000 (make serve ARGS="--clock manual")
	$(BIN)/shortapi-mock serve $(ARGS)

lint: $(STAMP)  ## ruff, ruff format --check, mypy --strict, import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint chromium redis clients  ## lint, type-check and run every test
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

# Debian packages some tests need: installed when missing and apt-get is usable (root);
# otherwise say why: those tests then skip, and the build goes on.
# $(call debian_package,TARGET,PACKAGE,BINARY,WHAT[,NAME]): BINARY present is enough, or
# NAME on PATH when given (the tests that use BINARY by its path give none).
define debian_package
	@if [ -x $(3) ] || { [ -n "$(5)" ] && command -v $(5) >/dev/null 2>&1; }; then \
		:; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "$(1): $(3) missing and no apt-get here: $(4) will be skipped"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "$(1): $(3) missing; run 'apt-get install $(2)' as root to run $(4) (skipped now)"; \
	else \
		echo "$(1): installing Debian's $(2) for $(4)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		( apt-get install -y -qq $(2) >/dev/null 2>&1 \
		  || ( apt-get update -qq && apt-get install -y -qq $(2) >/dev/null ) ) \
		|| echo "$(1): apt-get install $(2) failed: $(4) will be skipped"; \
	fi
endef

# The dashboard's browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download is not used).
CHROMIUM := /usr/bin/chromium
chromium:
	$(call debian_package,chromium,chromium,$(CHROMIUM),the browser tests)

# The Redis store's tests run a real redis-server (Debian's package), started by the tests on a
# free loopback port.
REDIS_SERVER := /usr/bin/redis-server
redis:
	$(call debian_package,redis,redis-server,$(REDIS_SERVER),the Redis store tests,redis-server)

# `shortapi-mock run` is tested with real programs in each language (tests/test_run_cli.py):
# Node's fetch, Go's net/http and curl, from Debian.
clients:
	$(call debian_package,clients,nodejs,/usr/bin/node,the Node client tests,node)
	$(call debian_package,clients,golang-go,/usr/bin/go,the Go client tests,go)
	$(call debian_package,clients,curl,/usr/bin/curl,the curl client tests,curl)

bench: $(STAMP)  ## wrk against the served mock and Prism; figures to reports/bench.json
	$(BIN)/python bench/headline.py
	$(BIN)/python bench/run.py $(ARGS)
	$(BIN)/python bench/callbacks.py
	$(BIN)/python bench/fixtures.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/contract_rate.py
	$(BIN)/python bench/backlog.py
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/stores.py
	$(BIN)/python bench/intercept.py

fuzz: $(STAMP)  ## the fuzz property over 100k requests; figures to reports/fuzz.json
	$(BIN)/python bench/fuzz.py $(ARGS)

videos: $(STAMP)  ## re-encode the blocks result videos are made of (fixtures/videos/blocks.zip)
	$(BIN)/python fixtures/make_videos.py

clean:  ## remove the venv, state, reports and caches
	rm -rf $(VENV) .shortapi-mock .bench reports .pytest_cache .mypy_cache .ruff_cache
