"""Helpers of the subscription tests: a running service on real PostgreSQL and Kafka with its dev clock, the
shops' keys registered as checkout would, publishing what checkout publishes, reading what the service emits."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI
from pydantic import SecretStr

from contracts.envelope import Envelope
from contracts.events import Event
from contracts.topics import SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS, dlq
from delivery.settings import ConsumerSettings, KafkaSettings
from services.subscription.adapters.dev_clock import DevClock
from services.subscription.app import create_app
from services.subscription.settings import SchedulerSettings, SubscriptionSettings
from tests.kafka_reading import read_topic
from tests.waiting import eventually

INTERNAL = "test-subscription-internal-token"
KEYS = {"demo-shop": ("operator-key-of-the-demo-shop", "storefront-key-of-the-demo-shop"),
        "other-shop": ("operator-key-of-another-shop", "storefront-key-of-another-shop")}
START = datetime(2025, 1, 31, 3, 0, tzinfo=UTC)  # 12:00 JST on the day of the first orders


def settings(database_url: str, kafka: KafkaSettings, **scheduler: Any) -> SubscriptionSettings:
    """Fast consumer retries and a scheduler that rechecks often, so each step finishes within a test's seconds."""
    return SubscriptionSettings(
        database_url=database_url, kafka=kafka, internal_token=SecretStr(INTERNAL), dev_clock=True,
        scheduler=SchedulerSettings(**{"poll_interval_s": 2.0, "min_pause_s": 0.05, **scheduler}),
        consumer=ConsumerSettings(backoff_initial_s=0.05, backoff_max_s=0.2, max_attempts=3, commit_interval_s=0.05),
    )


def start(database_url: str, kafka: KafkaSettings, *, at: datetime = START, **scheduler: Any) -> FastAPI:
    return create_app(settings(database_url, kafka, **scheduler), clock=DevClock(start=at))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The service started (lifespan), both shops' operator and storefront keys registered as checkout does, and a
    client on its app (no key by default: tests pass the header they mean)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://subscription") as client:
            for shop_id, (operator_key, storefront_key) in KEYS.items():
                for path, key in (("operator-key", operator_key), ("storefront-key", storefront_key)):
                    registered = await client.put(f"/internal/v1/shops/{shop_id}/{path}",
                                                  json={"sha256": hashlib.sha256(key.encode()).hexdigest()},
                                                  headers={"X-Internal-Token": INTERNAL})
                    assert registered.status_code == 204, registered.text
            yield client


def operator(shop_id: str = "demo-shop") -> dict[str, str]:
    return {"X-Operator-Key": KEYS[shop_id][0]}


def storefront(shop_id: str = "demo-shop") -> dict[str, str]:
    return {"X-Storefront-Key": KEYS[shop_id][1]}


async def advance(client: httpx.AsyncClient, *, days: int = 0, hours: int = 0) -> dict[str, Any]:
    moved = await client.post("/dev/clock", json={"advance_days": days, "advance_hours": hours})
    assert moved.status_code == 200, moved.text
    return dict(moved.json())


async def publish(kafka: KafkaSettings, events: list[Event]) -> None:
    """Each event in its own envelope on its contract topic, keyed by its aggregate id (as checkout publishes)."""
    await publish_envelopes(kafka, [Envelope.wrap(event, producer="checkout",
                                                  correlation_id=f"chk-{event.kafka_key()}") for event in events])


async def publish_envelopes(kafka: KafkaSettings, envelopes: list[Envelope]) -> None:
    """These envelopes, in order (one twice: a redelivery), on their events' topics keyed by their aggregate ids."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            event = envelope.event()
            await producer.send_and_wait(kafka.topic(event.TOPIC), envelope.to_bytes(),
                                         key=event.kafka_key().encode(), headers=envelope.headers())
    finally:
        await producer.stop()


async def publish_raw(kafka: KafkaSettings, topic: str, value: bytes, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers)
    await producer.start()
    try:
        await producer.send_and_wait(kafka.topic(topic), value, key=key)
    finally:
        await producer.stop()


async def emitted(kafka: KafkaSettings, topic: str, *, at_least: int, settle: float = 1.0) -> list[Event]:
    """What the service published on `topic` (all of it once `at_least` arrived and `settle` seconds passed)."""
    records = await read_topic(kafka, kafka.topic(topic), at_least=at_least, settle=settle)
    return [Envelope.from_bytes(record.value).event() for record in records]


async def renewal_requests(kafka: KafkaSettings, *, at_least: int, settle: float = 1.0) -> list[Event]:
    return await emitted(kafka, SUBSCRIPTIONS_COMMANDS, at_least=at_least, settle=settle)


async def lifecycle(kafka: KafkaSettings, *, at_least: int, settle: float = 0.5) -> list[Event]:
    return await emitted(kafka, SUBSCRIPTIONS_EVENTS, at_least=at_least, settle=settle)


async def dead_letters(kafka: KafkaSettings, topic: str, *, at_least: int) -> list[ConsumerRecord]:
    return await read_topic(kafka, kafka.topic(dlq(topic)), at_least=at_least, settle=0.3)


def reason(record: ConsumerRecord) -> str:
    return dict(record.headers or ())["dlq-reason"].decode()


async def fetch(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def count(database_url: str, sql: str, *args: Any) -> int:
    return int((await fetch(database_url, sql, *args))[0][0])


async def subscriptions_started(database_url: str, expected: int) -> None:
    async def started() -> bool:
        return await count(database_url, "SELECT count(*) FROM subscriptions") >= expected

    await eventually(started, message=f"{expected} subscriptions started")


async def cycles_recorded(database_url: str, expected: int, *, timeout: float = 20.0) -> None:
    """Wait until `expected` cycles (first orders included) are recorded."""
    async def recorded() -> bool:
        return await count(database_url, "SELECT count(*) FROM cycles") >= expected

    await eventually(recorded, timeout=timeout, message=f"{expected} cycles recorded")
