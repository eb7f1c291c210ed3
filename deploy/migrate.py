"""Prepare a deployment before (or while) the services start: databases, schema migrations, Kafka topics.

    python -m deploy.migrate [--wait 120]

The Kubernetes migration Job and the compose `migrate` service run this with the services' own settings
(`<PREFIX>_DATABASE_URL` or `DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_TOPIC_PREFIX`). Every step is
idempotent and safe beside running services: a missing database is created (the role needs CREATEDB, or create
them beforehand), each service's numbered migrations run under the same advisory lock the services take at start,
and topics are created with their partition counts where missing (contracts/topics.py). The services migrate at
start too; running this first means a new version's pods start on a ready schema and a rollout with a failing
migration stops here, before any pod of the new version takes traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from pathlib import Path

import asyncpg

from delivery.db import ensure_database, migrate
from delivery.settings import KafkaSettings
from deploy.local.kafka import wait_for_kafka
from deploy.local.topics import create_all
from services.checkout.settings import CheckoutSettings
from services.notification.settings import NotificationSettings
from services.payment.settings import PaymentSettings
from services.subscription.settings import SubscriptionSettings

SERVICES = Path(__file__).resolve().parents[1] / "services"
log = logging.getLogger("deploy.migrate")


def database_urls() -> dict[str, str]:
    """service -> its database URL, from the same settings the service reads."""
    return {"checkout": CheckoutSettings().database_url, "payment": PaymentSettings().database_url,
            "subscription": SubscriptionSettings().database_url,
            "notification": NotificationSettings().database_url}


async def migrate_database(service: str, url: str, *, wait_s: float) -> list[str]:
    deadline = time.monotonic() + wait_s
    while True:  # the server may still be starting (compose, a fresh cluster)
        try:
            await ensure_database(url)
            conn = await asyncpg.connect(url)
            break
        except (OSError, asyncpg.CannotConnectNowError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service}: PostgreSQL not reachable after {wait_s:.0f}s: {exc!r}") from exc
            await asyncio.sleep(1.0)
    try:
        return await migrate(conn, SERVICES / service / "migrations")
    finally:
        with contextlib.suppress(Exception):  # closing a connection the server dropped may fail; nothing to do
            await conn.close()


async def prepare(*, wait_s: float) -> int:
    for service, url in database_urls().items():
        applied = await migrate_database(service, url, wait_s=wait_s)
        print(f"{service}: database ready, migrations applied now: {', '.join(applied) or 'none'}", flush=True)
    kafka = KafkaSettings()
    await wait_for_kafka(",".join(kafka.servers), timeout=wait_s)
    created = await create_all(kafka)
    print(f"kafka {kafka.bootstrap_servers}: topics created now: {', '.join(created) or 'none'}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for PostgreSQL and Kafka")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(prepare(wait_s=args.wait))


if __name__ == "__main__":
    sys.exit(main())
