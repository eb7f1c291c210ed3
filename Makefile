# The two commands a new user needs: `make run` (whole system + demo shop) and `make test` (every test).
# Every install step lives here or in the scripts it calls, so a fresh machine needs nothing else.

PYTHON_BOOT ?= python3.11
UV_HOME     := .cache/uv
UV          := $(UV_HOME)/bin/uv
VENV        := .venv
PY          := $(VENV)/bin/python
KAFKA_LIBS  := .cache/kafka/libs/.pom-sha256
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup venv kafka-libs postgres browser run test test-unit test-images test-containers test-containers-short \
        lint docs bench-emulator bench-checkout \
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

# Local servers unless TEST_BACKEND=containers (tests/backends.py).
TEST_BACKEND ?= local
export TEST_BACKEND

test: setup browser $(if $(filter containers,$(TEST_BACKEND)),test-images)
	$(PY) -m pytest

test-unit: venv
	$(PY) -m pytest tests/unit

# The same tests on Kafka and PostgreSQL in containers (README "Tests on containers"): Docker if it answers, else
# podman (installed and started here). `TEST_BACKEND=containers make test` runs every tier that way.
test-images: venv kafka-libs
	@if [ "$${TEST_IMAGES:-}" != public ] && { command -v podman >/dev/null || ! docker info >/dev/null 2>&1; }; \
	then deploy/containers/podman-setup.sh; fi
	$(PY) -m deploy.containers.images build

test-containers: test-images browser
	TEST_BACKEND=containers $(PY) -m pytest tests/integration tests/e2e

# CI's short form: the delivery plumbing and the harness's own container checks.
test-containers-short: test-images
	TEST_BACKEND=containers $(PY) -m pytest tests/integration/delivery tests/integration/harness

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
