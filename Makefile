# The two commands a new user needs: `make run` (whole system + demo shop) and `make test` (every test).
# Every install step lives here or in the scripts it calls, so a fresh machine needs nothing else.

PYTHON_BOOT ?= python3.11
UV_HOME     := .cache/uv
UV          := $(UV_HOME)/bin/uv
VENV        := .venv
PY          := $(VENV)/bin/python
KAFKA_LIBS  := .cache/kafka/libs/.pom-sha256
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup venv kafka-libs postgres browser run test test-unit lint docs bench-emulator bench-checkout \
        bench-notification bench-bulk-capture bench-renewals bench-renewals-e2e clean

setup: venv kafka-libs postgres

venv: $(VENV)/.synced
$(VENV)/.synced: pyproject.toml uv.lock
	test -x $(UV) || ($(PYTHON_BOOT) -m venv $(UV_HOME) && $(UV_HOME)/bin/pip install -q uv==0.13.9)
	$(UV) sync --frozen --all-groups
	touch $@

kafka-libs: $(KAFKA_LIBS)
$(KAFKA_LIBS): deploy/local/kafka/pom.xml | venv
	$(PY) -m deploy.local.kafka build

postgres:
	deploy/local/postgres.sh ensure

browser:
	emulator/install-browser.sh

run: setup
	$(PY) -m deploy.local.run

test: setup browser
	$(PY) -m pytest

test-unit: venv
	$(PY) -m pytest tests/unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy contracts delivery services emulator deploy web
	$(VENV)/bin/lint-imports
	$(PY) -m contracts.schemas check
	$(PY) -m deploy.checks.style

docs: venv
	$(PY) -m contracts.asyncapi docs
	$(PY) -m deploy.openapi docs/openapi

bench-emulator: venv
	$(PY) bench/emulator_bench.py

bench-checkout: setup
	$(PY) bench/checkout_bench.py

bench-notification: setup
	$(PY) bench/notification_bench.py

bench-bulk-capture: setup
	$(PY) bench/bulk_capture_bench.py

bench-renewals: setup
	$(PY) bench/renewals_bench.py

bench-renewals-e2e: setup
	$(PY) bench/renewals_bench.py --end-to-end

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
