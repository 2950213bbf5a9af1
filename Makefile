# copytrade — everything installs from this repo's own files.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PYTEST_ARGS ?=
# promtool (alert-rule tests) from Debian's prometheus package, unpacked here, not installed
PROMETHEUS_DEB := prometheus=2.42.0+ds-5+deb12u1
PROMTOOL := .tools/bin/promtool

.PHONY: install test test-nodes test-unit test-service lint contracts demo chaos bench clean
DEMO_ARGS ?=

install: $(VENV)/.installed node_modules/.installed $(PROMTOOL)

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(PROMTOOL):
	rm -rf .tools && mkdir -p .tools/deb .tools/bin
	cd .tools/deb && apt-get download $(PROMETHEUS_DEB)
	dpkg-deb -x .tools/deb/prometheus_*.deb .tools/pkg
	ln -s ../pkg/usr/bin/promtool $(PROMTOOL)
	$(PROMTOOL) --version

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## make test: the whole suite (unit, integration, e2e) in random order
test: install
	$(BIN)/pytest -p random_order --random-order --durations=30 $(PYTEST_ARGS)

## make test-nodes: the crash points and the stuck suite again on Hardhat's node (make test
## runs them on anvil, and Hardhat's backbone, stuck replacement and crash after broadcast)
NODE_TESTS := tests/chaos/test_crash_points.py tests/e2e/test_stuck.py
test-nodes: install
	COPYTRADE_TEST_NODE=hardhat COPYTRADE_TEST_CHAOS_VENUES=simple \
		$(BIN)/pytest -p random_order --random-order $(NODE_TESTS) $(PYTEST_ARGS)

## make demo: the whole job on an embedded stack (no servers), then everything stopped
demo: install
	$(BIN)/copytrade demo $(DEMO_ARGS)

## make chaos: the chaos suite again, CHAOS_RUNS times (each run new followers and keys)
CHAOS_RUNS ?= 3
chaos: install
	for i in $$(seq $(CHAOS_RUNS)); do $(BIN)/pytest tests/chaos -p random_order --random-order || exit 1; done

## make bench: every figure of docs/benchmarks.md with its floor (measured in the same run)
## and its ratio, into bench/results.json; the table at the end (~10.5 min on two cores)
bench: install
	rm -f bench/results.json
	$(BIN)/python scripts/bench_scale.py
	$(BIN)/python scripts/bench_fanout.py --broker redis --venue gmx
	$(BIN)/python scripts/bench_latency.py --signals 200
	$(BIN)/python scripts/bench_sustained.py --seconds 60 --drain 10
	$(BIN)/python scripts/bench_lost_worker.py
	$(BIN)/python scripts/bench_leader_latency.py --venue gmx --trades 10
	$(BIN)/python scripts/bench_report.py

test-unit: install
	$(BIN)/pytest tests/unit -p random_order --random-order

## make test-service: the service tier — the executor's rules on in-memory fakes of the
## ports (tests/service/fakes.py), no servers; seconds
test-service: install
	$(BIN)/pytest tests/service -p random_order --random-order

lint: install
	$(BIN)/ruff check config core tasks tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/import_cycles.py

## make contracts: recompile contracts/*.sol offline with the pinned npm solc
contracts: node_modules/.installed
	node scripts/compile_contracts.js
	node scripts/gmx_sdk.js

clean:
	rm -rf $(VENV) node_modules .tools .pytest_cache .ruff_cache .mypy_cache
