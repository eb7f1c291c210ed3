# The two commands a new user needs: `make run` (whole system + demo shop) and `make test` (every test).
# Every install step lives here or in the scripts it calls, so a fresh machine needs nothing else.

PYTHON_BOOT ?= python3.11
UV_HOME     := .cache/uv
UV          := $(UV_HOME)/bin/uv
VENV        := .venv
PY          := $(VENV)/bin/python
KAFKA_LIBS  := .cache/kafka/libs/.pom-sha256
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Deployment (docs/deploy.md): kustomize from the Go module proxy; images built with podman.
KUSTOMIZE_VERSION := v5.7.1
export KUSTOMIZE  := $(abspath .cache/kustomize/$(KUSTOMIZE_VERSION))/kustomize
IMAGE_BASE  ?= localhost/debian-base:bookworm
IMAGE_TAG   ?= dev
export CONTAINERS_CONF ?= $(abspath deploy/containers/containers.conf)
# Behind a TLS-intercepting proxy the build reaches PyPI and Maven Central with the host's CA bundle (read-only,
# only during the build; nothing of it is kept in an image).
HOST_CA     := $(if $(wildcard /etc/ssl/certs/ca-certificates.crt),-v /etc/ssl/certs:/run/host-ca:ro)
PODMAN_BUILD = podman build -f deploy/Containerfile --format docker $(HOST_CA) --build-arg BASE=$(IMAGE_BASE)

.PHONY: setup venv kafka-libs postgres browser run test test-unit test-images test-containers test-containers-short \
        lint monitoring docs kustomize image images test-deploy bench-emulator bench-checkout \
        bench-checkout-past bench-payment-worker bench-relay-floor bench-idle bench-notification bench-bulk-capture \
        bench-renewals bench-renewals-e2e bench-payment-workers chaos chaos-short clean

setup: venv kafka-libs postgres

# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on these machines and in the image) Python
# never writes it, and every process start compiled every module it imports again (two services' imports: 5.0-5.5
# core-s without, 2.7 with; each restart, test stack and benchmark warm-up paid it).
venv: $(VENV)/.synced
$(VENV)/.synced: pyproject.toml uv.lock
	test -x $(UV) || ($(PYTHON_BOOT) -m venv $(UV_HOME) && $(UV_HOME)/bin/pip install -q uv==0.13.9)
	$(UV) sync --frozen --all-groups --compile-bytecode
	$(PY) -m compileall -q -j 0 contracts delivery deploy emulator services tools web >/dev/null
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

test: setup browser kustomize $(if $(filter containers,$(TEST_BACKEND)),test-images)
	REQUIRE_BROWSER=1 $(PY) -m pytest

test-unit: venv
	$(PY) -m pytest tests/unit

# The same tests on Kafka and PostgreSQL in containers (README "Tests on containers"): Docker if it answers, else
# podman (installed and started here). `TEST_BACKEND=containers make test` runs every tier that way.
test-images: venv kafka-libs
	@if [ "$${TEST_IMAGES:-}" != public ] && { command -v podman >/dev/null || ! docker info >/dev/null 2>&1; }; \
	then deploy/containers/podman-setup.sh; fi
	$(PY) -m deploy.containers.images build

test-containers: test-images browser
	REQUIRE_BROWSER=1 TEST_BACKEND=containers $(PY) -m pytest tests/integration tests/e2e

# CI's short form: the delivery plumbing and the harness's own container checks (not the tests of the local
# broker's own start/stop, which start their own brokers on any backend and already ran in `make test`).
test-containers-short: test-images
	TEST_BACKEND=containers $(PY) -m pytest tests/integration/delivery tests/integration/harness \
	    --ignore-glob='tests/integration/delivery/test_local_kafka_*'

lint: venv kustomize
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy contracts delivery services emulator deploy web tools
	$(VENV)/bin/lint-imports
	$(PY) -m contracts.schemas check
	$(PY) -m deploy.checks.style
	$(PY) -m deploy.checks.manifests
	$(PY) -m deploy.monitoring.check

# Alert rules (promtool check + rule unit tests, promtool from Debian's prometheus package) and the Grafana
# dashboard (Grafana's published types via the TypeScript compiler, from npm): deploy/monitoring/check.py.
monitoring: venv
	$(PY) -m deploy.monitoring.check

kustomize: $(KUSTOMIZE)
$(KUSTOMIZE):
	GOBIN=$(dir $(KUSTOMIZE)) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

# The services' image (all services, the emulator, the SMTP sink): localhost/payments:$(IMAGE_TAG).
# IMAGE_BASE=docker.io/library/python:3.11-slim-bookworm on a machine that can pull.
image:
	deploy/containers/podman-setup.sh
	$(PODMAN_BUILD) -t localhost/payments:$(IMAGE_TAG) .

# The compose stack's own Kafka and PostgreSQL (targets of the same Containerfile).
images: image
	$(PODMAN_BUILD) --target kafka -t localhost/payments-kafka:$(IMAGE_TAG) .
	$(PODMAN_BUILD) --target postgres -t localhost/payments-postgres:$(IMAGE_TAG) .

# The heavy deployment checks (minutes): images, the compose stack completes an order, the rendered Kubernetes
# manifests under `podman kube play` complete an order. Removes every container, pod and volume it started.
test-deploy: images kustomize venv postgres
	$(PY) -m deploy.checks.stack compose
	$(PY) -m deploy.checks.stack kube

docs: venv
	$(PY) -m contracts.asyncapi docs
	$(PY) -m deploy.openapi docs/openapi

bench-emulator: venv
	$(PY) bench/emulator_bench.py

bench-checkout: setup
	$(PY) bench/checkout_bench.py

bench-checkout-past: setup
	$(PY) bench/checkout_bench.py --past-orders 1000000

bench-payment-worker: setup
	$(PY) bench/payment_worker_bench.py

bench-relay-floor: setup
	$(PY) bench/relay_floor_bench.py

bench-idle: setup
	$(PY) bench/idle_cost.py

bench-notification: setup
	$(PY) bench/notification_bench.py

bench-bulk-capture: setup
	$(PY) bench/bulk_capture_bench.py

bench-renewals: setup
	$(PY) bench/renewals_bench.py

bench-renewals-e2e: setup
	$(PY) bench/renewals_bench.py --end-to-end

# Payment workers: throughput at 200 ms gateway latency with 1, 2, 3 workers, then one of three killed mid-load
# (exit 1 if an order is lost or authorized or mailed twice). bench/payment_workers_bench.py.
bench-payment-workers: setup
	$(PY) bench/payment_workers_bench.py

# The chaos run (tests/chaos): the whole stack on its own PostgreSQL and Kafka, fed while services are killed, the
# broker and the database restart and the gateway and SMTP fail; exit 1 on any violated invariant.
chaos: setup
	$(PY) -m tests.chaos

chaos-short: setup
	CHAOS_ORDERS=$${CHAOS_ORDERS:-500} CHAOS_RATE=$${CHAOS_RATE:-10} $(PY) -m tests.chaos

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
