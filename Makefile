# Every target creates .venv and installs what it needs, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench load simulate clean browser wrk

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

# The pixel tests drive Debian's Chromium; a test tool's own browser download fails here.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# wrk drives the collector benchmarks, and the bench dry run among the tests.
wrk:
	@test -x "$$(command -v wrk)" || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

test: $(STAMP) lint browser wrk
	$(BIN)/python -m pytest

check: test

# Figures, not tests: every benchmark of issue 5 side by side (~15-25 min), written into
# docs/performance.md. Extra options: make bench BENCH_ARGS="--big" (10M events, hours).
bench: $(STAMP) wrk
	$(BIN)/python loadtests/bench.py $(BENCH_ARGS)

# Bounded, loopback-only locust run against a running server (make run in another shell).
load: $(STAMP)
	$(BIN)/locust -f loadtests/locustfile.py --headless -u $${USERS:-50} -r $${SPAWN:-10} -t $${TIME:-30s} --host $${HOST:-http://127.0.0.1:8080} --only-summary

# Realistic traffic straight into a DB file, checked against the generator's ground truth.
simulate: $(STAMP)
	$(BIN)/python -m collector.simulate --users $${USERS:-1000} --days $${DAYS:-14} --db $${DB:-/tmp/fakeboxer-sim.duckdb} --verify

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
