# Every target creates .venv on first use: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo bench lint typecheck unit clean compose-keys

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/onboarding dev

demo: $(STAMP)
	$(BIN)/onboarding demo

# Figures, not pass/fail: the fleet's Unico calls with and without the server-side limit.
bench: $(STAMP)
	$(BIN)/python -m bench.fleet_rate_limit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

test: lint typecheck
	$(BIN)/pytest

# The sandbox's dev service-account keys for `docker compose --profile sandbox` (once).
compose-keys: $(STAMP)
	$(BIN)/python -m onboarding.devkeys .state/compose

clean:
	rm -rf $(VENV) build *.egg-info
