# The two commands of the README: `make run` (the example app) and `make test` (everything).
# Both set up what they need: a virtualenv in .venv, the Node validators, Debian's chromium.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest conformance docs openactive-models bench bench-quick wrk clean chromium load-test nginx

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

## The example app on embedded SQLite (FLASK_RUN_HOST / FLASK_RUN_PORT choose where).
run: $(STAMP)
	$(BIN)/flask --app example_app run

## Everything CI checks: lint, types, the test suite, OpenActive's validators, the docs.
test: lint typecheck pytest conformance docs

lint: $(STAMP)
	$(BIN)/ruff check rpde_publisher tests example_app conformance loadtest deploy benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) node_modules/.installed chromium nginx
	$(BIN)/pytest -q $(PYTEST_ARGS)

## Debian's nginx, for the test of deploy/nginx/rpde.conf (installed when missing and we are
## root; Debian's policy-rc.d keeps the package from starting a system nginx).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || [ "$$(id -u)" != 0 ] || \
		apt-get install -y -q nginx >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q nginx >/dev/null 2>&1) || \
		echo "nginx could not be installed: the nginx test will be skipped"

## Debian's chromium, for the browser tests (installed when missing and we are root).
chromium:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) || \
		echo "chromium could not be installed: browser tests will be skipped"

conformance: $(STAMP) node_modules/.installed
	$(BIN)/python -m conformance.check_feeds
	$(BIN)/python -m conformance.check_dataset_site
	$(BIN)/python -m conformance.check_items

## OpenActive's definitions and typed building blocks (rpde_publisher/openactive), regenerated
## from the npm @openactive/data-models pinned in package.json: run after bumping the pin.
openactive-models: $(STAMP) node_modules/.installed
	$(BIN)/python -m tools.generate_openactive

docs: $(STAMP)
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

## The full load test (docs/load-test.md): 200 consumers for 60 s against gunicorn + Redis +
## PostgreSQL on loopback while writes happen. LOAD_ARGS="--users 40 --seconds 15" runs less.
## Its figures go to docs/load-test.json and into docs/performance.md, pass or fail.
load-test: $(STAMP)
	$(BIN)/python -m loadtest.run --output docs/load-test.json $(LOAD_ARGS); \
		status=$$?; $(BIN)/python -m benchmarks --report-only docs/performance.json && exit $$status

## The performance benchmarks at 1,000,000 items (minutes): rewrites docs/performance.md.
bench: $(VENV)/.bench-installed wrk
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

## The same harness on small data (about a minute); tests/test_benchmarks.py runs it too.
bench-quick: $(VENV)/.bench-installed wrk
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

## Debian's wrk, for the cached-page row over HTTP (installed when missing and we are root).
wrk:
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		apt-get install -y -q wrk >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1) || \
		echo "wrk could not be installed: the cached-page row is measured in-process only"

clean:
	rm -rf $(VENV) node_modules docs/_build test-output .pytest_cache .mypy_cache .ruff_cache .bench
