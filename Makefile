# Every target creates .venv on first use: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick demo lint typecheck clean histories bench bench-memory chaos soak compose-keys chromium examples

$(STAMP): pyproject.toml devtools/pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./clients/python -e ./devtools -e '.[dev,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/onboarding dev

demo: $(STAMP)
	$(BIN)/onboarding demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

# Everything: every tier, real processes included (what .ci/run calls). The fast tiers run
# on both cores; the tiers with real servers one test at a time, so timings stay honest.
test: lint typecheck chromium examples
	$(BIN)/pytest -n 2 tests/unit tests/sandbox tests/workflow tests/fuzz
	$(BIN)/pytest tests/integration tests/replay tests/e2e
	$(BIN)/pytest tests/browser  # apart: Playwright's sync API runs a loop of its own

# The browser tests drive Debian's Chromium through Playwright (from PyPI, with the dev
# tools); never `playwright install`, which downloads browsers. Installed once, as root.
chromium:
	@command -v chromium >/dev/null || { \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium >/dev/null || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	} || { echo "the browser tests need Debian's chromium: apt-get install chromium (as root)"; exit 1; }

# The TypeScript calling example (examples/typescript, docs/codec.md): its packages exactly as
# package-lock.json pins them (npm ci, again only when the lock changes), compiled to dist/
# (tsc, when a source changes). Set-up only: the tests that run it never install.
TS := examples/typescript
TS_INSTALLED := $(TS)/node_modules/.installed
TS_BUILT := $(TS)/dist/.built

$(TS_INSTALLED): $(TS)/package.json $(TS)/package-lock.json
	@command -v npm >/dev/null || { echo "the TypeScript example needs Node.js 20 and npm"; exit 1; }
	cd $(TS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(TS_BUILT): $(TS_INSTALLED) $(TS)/tsconfig.json $(wildcard $(TS)/src/*.ts)
	rm -rf $(TS)/dist
	cd $(TS) && node_modules/.bin/tsc -p .
	touch $@

examples: $(TS_BUILT)

# The fast loop (under a minute): lint, types, the unit and sandbox tests, and the workflow's
# own logic with its activities stubbed by name: four processes, as the workflow tests mostly
# wait on the test server rather than compute.
quick: lint typecheck
	$(BIN)/pytest -q -n 4 tests/unit tests/sandbox tests/workflow

# Timed figures (never pass/fail tests): see bench/. Results land in bench-results/.
bench: $(STAMP)
	$(BIN)/python -m bench

# 5,000 workflows waiting on timers: worker and server RSS (about 5 minutes).
bench-memory: $(STAMP)
	$(BIN)/python -m bench memory

# Faults injected into the real stack (kill -9, server restart, 5xx, 429, timeouts, tokens).
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

# The whole journey for SOAK_MINUTES (default 20) at 80 % of Unico's budget, faults mixed in:
# a table per 5-minute window; exits 1 on a lost onboarding, a wrong outcome or growth.
SOAK_MINUTES ?= 20
soak: $(STAMP)
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES)

# Record every case of tests/replay/cases.py on a dev server into a new batch of the replay
# corpus (tests/replay/histories/<date>-<commit>/). Commit the batch; never edit old ones.
histories: $(STAMP)
	$(BIN)/python -m tests.replay.record

# Docker Compose's dev secrets (once): the sandbox's service-account keys, the payload
# keyring and the codec token, in .state/compose/keys (docs/operations.md, "Docker Compose").
compose-keys: $(STAMP)
	$(BIN)/python -m devstack.credentials .state/compose

clean:
	rm -rf $(VENV) build *.egg-info
