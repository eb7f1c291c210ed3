"""Malformed and hostile records for every topic a service consumes: random bytes, wrong types, a huge payload,
unknown event types, envelopes naming other shops' ids, a key and headers that lie. Each must end as a dead letter
with its reason or be ignored, never crash a consumer or block a partition."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from contracts.topics import (
    CHECKOUT_REQUESTS,
    ORDERS_EVENTS,
    PAYMENTS_COMMANDS,
    PAYMENTS_EVENTS,
    SHOPS_SETTINGS,
    SUBSCRIPTIONS_COMMANDS,
    SUBSCRIPTIONS_EVENTS,
)
from delivery.settings import KafkaSettings

CONSUMED = (CHECKOUT_REQUESTS, ORDERS_EVENTS, PAYMENTS_EVENTS, PAYMENTS_COMMANDS, SHOPS_SETTINGS,
            SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS)
KNOWN_TYPES = ("checkout.requested.v1", "order.placed.v1", "order.completed.v1", "payment.authorized.v1",
               "payment.capture_requested.v1", "shop.settings_changed.v1", "renewal.order_requested.v1",
               "subscription.started.v1")


def _envelope(rng: random.Random, event_type: str, data: object) -> bytes:
    return json.dumps({"event_id": str(uuid.UUID(int=rng.getrandbits(128))), "type": event_type,
                       "occurred_at": datetime.now(UTC).isoformat(), "producer": "intruder",
                       "correlation_id": "chaos", "causation_id": None, "subject_version": 1,
                       "data": data}).encode()


Hostile = tuple[str, bytes, bytes, list[tuple[str, bytes]]]  # kind, key, value, headers


def records(rng: random.Random) -> list[Hostile]:
    """One round of hostile records, each named by its kind (the report counts them by kind and topic)."""
    other = f"other-shop-{rng.randrange(1000)}"
    known = rng.choice(KNOWN_TYPES)
    return [
        ("random bytes", b"k", rng.randbytes(64), []),
        ("not json", b"k", b"{not json", [("type", known.encode())]),
        ("not an envelope", b"k", json.dumps([1, 2, 3]).encode(), []),
        ("wrong types", b"k", _envelope(rng, known, {"order_id": 42, "shop_id": None, "amount": "lots"}),
         [("type", known.encode())]),
        ("unknown event type", b"k", _envelope(rng, "payment.teleported.v9", {"x": 1}),
         [("type", b"payment.teleported.v9")]),
        ("huge payload", b"k", _envelope(rng, known, {"blob": "x" * 300_000}), [("type", known.encode())]),
        ("other shop's ids", other.encode(),
         _envelope(rng, known, {"shop_id": other, "order_id": f"ord_{uuid.uuid4().hex}",
                                "checkout_id": f"chk-{uuid.uuid4().hex}", "amount": 100}),
         [("type", known.encode())]),
        ("undecodable header", b"k", _envelope(rng, known, {}), [("type", b"\xff\xfe")]),
    ]


async def publish_round(kafka: KafkaSettings, rng: random.Random) -> Counter[tuple[str, str]]:
    """One round of hostile records to every consumed topic; how many were sent, by (kind, topic)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, acks="all", max_request_size=2_000_000)
    await producer.start()
    sent: Counter[tuple[str, str]] = Counter()
    try:
        for topic in CONSUMED:
            for kind, key, value, headers in records(rng):
                await producer.send_and_wait(kafka.topic(topic), value, key=key, headers=headers)
                sent[(kind, topic)] += 1
    finally:
        await producer.stop()
    return sent
