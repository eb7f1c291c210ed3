"""`make run`: the whole system on this machine, in the foreground.

Starts what is missing (PostgreSQL from Debian's package, a Kafka broker from Maven Central), creates the
topics, then runs the e-SCOTT emulator, the four services, the operator console and the demo storefront under
`deploy.local.supervisor` (a program that dies is restarted with backoff, and the log says so, instead of the whole
stack stopping), prints `READY` and the URLs once every health check answers, and on Ctrl-C stops everything it
started (the services, then the broker by its pid, then PostgreSQL if it was not running before). Killed instead
(SIGKILL included), its `deploy.local.orphan_guard` does the same: nothing it started keeps running.
Set `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` to use servers you already have. `PAYMENT_WORKERS=N` runs the
payment service as one API process (`payment`) and N worker processes (`payment-worker-1`..N: the consumer group's
members, each with its own health port), instead of one process doing both (docs/operations.md, scaling).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from delivery.settings import KafkaSettings
from deploy.local.kafka import RUN_DIR, LocalKafka, build_libs, free_port
from deploy.local.orphan_guard import OrphanGuard
from deploy.local.supervisor import Supervisor
from deploy.local.topics import create_all
from services.checkout.settings import CheckoutSettings
from services.notification.settings import NotificationSettings
from services.payment.settings import PaymentSettings
from services.subscription.settings import SubscriptionSettings

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = ROOT / "deploy" / "local" / "postgres.sh"
SINK_MAILDIR = ROOT / ".cache" / "smtp-sink" / "Maildir"
READY_TIMEOUT_S = 120.0
NOT_READY = threading.Event()


# Local-only values, documented in the README; real deployments set their own.
DEV_ENV = {
    "CHECKOUT_ADMIN_TOKEN": "dev-admin-token",
    "PAYMENT_INTERNAL_TOKEN": "dev-only-internal-token-not-a-secret",
    "CHECKOUT_PAYMENT_INTERNAL_TOKEN": "dev-only-internal-token-not-a-secret",
    "NOTIFICATION_INTERNAL_TOKEN": "dev-only-notification-internal-token-not-a-secret",
    "CHECKOUT_NOTIFICATION_INTERNAL_TOKEN": "dev-only-notification-internal-token-not-a-secret",
    "SUBSCRIPTION_INTERNAL_TOKEN": "dev-only-subscription-internal-token-not-a-secret",
    "CHECKOUT_SUBSCRIPTION_INTERNAL_TOKEN": "dev-only-subscription-internal-token-not-a-secret",
    # Local stack only: POST /dev/clock moves the subscription service's clock (services/subscription/README.md)
    "SUBSCRIPTION_DEV_CLOCK": "true",
}


def local_env(env: dict[str, str]) -> dict[str, str]:
    """The processes' environment: the caller's, plus the local wiring between them where not set."""
    emulator_port = env.setdefault("ESCOTT_EMULATOR_PORT", "8899")
    smtp_port = env.setdefault("SMTP_SINK_PORT", "8025")
    env.setdefault("SMTP_SINK_HTTP_PORT", "8026")
    env.setdefault("PAYMENT_ESCOTT_BASE_URL", f"http://127.0.0.1:{emulator_port}")
    env.setdefault("NOTIFICATION_SMTP__HOST", "127.0.0.1")
    env.setdefault("NOTIFICATION_SMTP__PORT", smtp_port)
    env.setdefault("CHECKOUT_PAYMENT_URL", f"http://127.0.0.1:{env.get('PAYMENT_HTTP_PORT', '8002')}")
    env.setdefault("CHECKOUT_NOTIFICATION_URL", f"http://127.0.0.1:{env.get('NOTIFICATION_HTTP_PORT', '8004')}")
    env.setdefault("CHECKOUT_SUBSCRIPTION_URL", f"http://127.0.0.1:{env.get('SUBSCRIPTION_HTTP_PORT', '8003')}")
    for service, port in (("checkout", "8001"), ("payment", "8002"), ("subscription", "8003"),
                          ("notification", "8004")):  # the console and the storefront call their public APIs
        service_port = env.get(f"{service.upper()}_HTTP_PORT", port)
        env.setdefault(f"WEB_{service.upper()}_URL", f"http://127.0.0.1:{service_port}")
    env.setdefault("STOREFRONT_TOKEN_SCRIPT_BASE", f"http://127.0.0.1:{emulator_port}")
    # 3-D Secure: the gateway sends the buyer's browser back to payment, then payment to the storefront
    env.setdefault("PAYMENT_PUBLIC_URL", f"http://127.0.0.1:{env.get('PAYMENT_HTTP_PORT', '8002')}")
    for name, value in DEV_ENV.items():
        env.setdefault(name, value)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def components(env: dict[str, str]) -> dict[str, tuple[list[str], str]]:
    """name -> (command, health URL)."""
    emulator_port, smtp_http = env["ESCOTT_EMULATOR_PORT"], env["SMTP_SINK_HTTP_PORT"]
    maildir = env.get("SMTP_SINK_MAILDIR", str(SINK_MAILDIR))
    found: dict[str, tuple[list[str], str]] = {
        "emulator": ([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", emulator_port],
                     f"http://127.0.0.1:{emulator_port}/_emulator/health"),
        "smtp-sink": ([sys.executable, "-m", "deploy.local.smtp_sink", "--host", "127.0.0.1", "--smtp-port",
                       env["SMTP_SINK_PORT"], "--http-port", smtp_http, "--maildir", maildir],
                      f"http://127.0.0.1:{smtp_http}/health"),
    }
    for name, settings in (("checkout", CheckoutSettings()), ("payment", PaymentSettings()),
                           ("subscription", SubscriptionSettings()), ("notification", NotificationSettings())):
        found[name] = ([sys.executable, "-m", f"services.{name}"],
                       f"http://{settings.http_host}:{settings.http_port}/health")
    workers = int(env.get("PAYMENT_WORKERS") or 0)
    if workers > 0:
        found["payment"][0].append("api")
        for number in range(1, workers + 1):
            port = free_port()
            found[f"payment-worker-{number}"] = ([sys.executable, "-m", "services.payment", "worker", "--http-port",
                                                  str(port)], f"http://127.0.0.1:{port}/health")
    for name, default_port in (("console", "8010"), ("storefront", "8011")):  # web/: after the services' URLs
        web_port = env.get(f"{name.upper()}_HTTP_PORT", default_port)
        found[name] = ([sys.executable, "-m", f"web.{name}"], f"http://127.0.0.1:{web_port}/health")
    return found


def seed_demo_shop(env: dict[str, str], checkout_url: str) -> bool:
    """The demo shop (idempotent): `deploy.local.demo_shop` prints the keys and a one-line order example."""
    seeding = subprocess.run(
        [sys.executable, "-m", "deploy.local.demo_shop", "--checkout-url", checkout_url,
         "--emulator-url", f"http://127.0.0.1:{env['ESCOTT_EMULATOR_PORT']}"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    print(seeding.stdout.rstrip(), flush=True)
    if seeding.returncode != 0:
        print(f"demo shop seeding failed:\n{seeding.stderr[-2000:]}", flush=True)
    return seeding.returncode == 0


def announce_when_healthy(urls: dict[str, str], stop: threading.Event, env: dict[str, str]) -> None:
    """Poll the health URLs; seed the demo shop; print READY and the URLs (or say what is not ready and stop)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = dict(urls)
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                try:
                    if client.get(url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
    base = {name: url.rsplit("/", 1)[0].replace("/_emulator", "") for name, url in urls.items()}
    if pending or not seed_demo_shop(env, base["checkout"]):
        print(f"NOT READY after {READY_TIMEOUT_S:.0f}s: {', '.join(sorted(pending)) or 'demo shop'}", flush=True)
        NOT_READY.set()
        stop.set()
        return
    print("READY", flush=True)
    for name, url in base.items():
        print(f"  {name:<13} {url}", flush=True)


def start_infrastructure(env: dict[str, str], guard: OrphanGuard) -> LocalKafka | None:
    if not env.get("DATABASE_URL"):
        guard.command([str(POSTGRES), "stop"])  # stops the cluster only if `ensure` started it
        subprocess.run([str(POSTGRES), "ensure"], check=True)
    kafka = None
    if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
        build_libs()
        run_dir = Path(env.get("KAFKA_RUN_DIR", str(RUN_DIR)))
        run_dir.mkdir(parents=True, exist_ok=True)
        kafka = LocalKafka(run_dir, port=int(env.get("KAFKA_PORT", "9092")), guard=guard)
        kafka.stop()  # a broker left behind by an earlier, killed run of ours
        started = time.monotonic()
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka.start()
        print(f"Kafka ready at {kafka.bootstrap} in {time.monotonic() - started:.1f}s", flush=True)
    kafka_settings = KafkaSettings(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
                                   topic_prefix=env.get("KAFKA_TOPIC_PREFIX", ""))
    created = asyncio.run(create_all(kafka_settings))
    print(f"topics ready (created now: {len(created)})", flush=True)
    return kafka


def program_env(env: dict[str, str], name: str) -> dict[str, str]:
    """A supervised program's environment: its name is its consumers' static group membership id (KIP-345), so a
    program restarted after a crash gets its partitions back at once instead of waiting out its dead session
    (`delivery.settings.KafkaSettings.group_instance_id`). One process per program, restarted only once it died."""
    return {**env, "KAFKA_GROUP_INSTANCE_ID": name}


def main() -> int:
    env = local_env(dict(os.environ))
    guard = OrphanGuard().start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    supervisor = Supervisor(sys.stdout, standby=True, guard=guard)
    kafka = None
    try:
        kafka = start_infrastructure(env, guard)
        procs = components(env)
        for name, (command, health) in procs.items():  # restarted when it dies or stays unhealthy
            supervisor.add(name, command, env=program_env(env, name), cwd=str(ROOT), health=health)
        supervisor.start()
        urls = {name: url for name, (_, url) in procs.items()}
        threading.Thread(target=announce_when_healthy, args=(urls, stop, env), daemon=True).start()
        while not stop.wait(0.5):
            pass
        return 1 if NOT_READY.is_set() else 0
    finally:
        supervisor.stop()
        if kafka is not None:
            kafka.stop()
        if not env.get("DATABASE_URL"):
            subprocess.run([str(POSTGRES), "stop"], check=False)
        guard.close()
        print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
