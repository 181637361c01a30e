# harness: developer entry points. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
SCENARIO := scenarios/quickstart.yaml

.PHONY: help setup demo test bench clean

help: ## list the targets
	@echo "make setup   create .venv, check Docker + Compose, get or build the images (scripts/setup.sh)"
	@echo "make demo    setup, then run $(SCENARIO); the report path is printed at the end"
	@echo "make test    setup, then run the test suite (tests/unit on 2 processes, then tests/integration)"
	@echo "make bench   setup, then run the benchmarks: bench/results.json and a table (docs/benchmarks.md)"
	@echo "make clean   remove .venv and build leftovers (Docker images are kept)"

setup:
	@scripts/setup.sh

# make itself exits 2 when a recipe fails; the recipe prints the real exit code.
demo: setup
	@$(VENV)/bin/harness run $(SCENARIO); rc=$$?; \
	if [ $$rc -ne 0 ]; then echo "error: harness run $(SCENARIO) exited $$rc"; fi; \
	exit $$rc

# The unit tests run on 2 processes (pytest-xdist); the integration tests then run one at a time,
# alone on the machine, since they measure latencies and timings. Both always run; the exit code
# is the first failure's. pytest exit 5 means "no tests collected": that is a failure too.
test: setup
	@$(VENV)/bin/python -m pytest -q -rs -n 2 tests/unit; unit=$$?; \
	$(VENV)/bin/python -m pytest -q -rs tests/integration; integration=$$?; \
	for rc in $$unit $$integration; do \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests fix: add tests under tests/"; fi; \
	done; \
	if [ $$unit -ne 0 ]; then exit $$unit; fi; exit $$integration

# Benchmarks print figures against goals; they never fail on speed (exit 1 only when one could
# not run, or when it left a Docker object behind).
bench: setup
	@$(VENV)/bin/python -m bench.run

clean:
	rm -rf $(VENV) build .pytest_cache *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
