"""The key-ordered consumer against a real Kafka and PostgreSQL (design §6.3, §6.4)."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from delivery.consumer import KeyOrderedConsumer
from delivery.dead_letter import broker_raw_publisher
from delivery.errors import PermanentError
from delivery.settings import ConsumerSettings
from tests.integration.delivery.support import SampleEvent, decode_sample
from tests.kafka_reading import read_topic
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]






async def send(broker, topic, event: SampleEvent | bytes, key: str = "k"):
    value = event if isinstance(event, bytes) else event.to_bytes()
    await broker.publish(value, topic, key=(key if isinstance(event, bytes) else event.key).encode())


def consumer_for(kafka_settings, broker, topic, *, handle, group=None, **settings):
    return KeyOrderedConsumer(kafka_settings, group_id=group or f"g-{topic}", topics=[topic],
                              decode=decode_sample, handle=handle, dead_letter=broker_raw_publisher(broker),
                              settings=ConsumerSettings(backoff_initial_s=0.01, **settings))


async def test_the_same_event_delivered_twice_has_one_effect(kafka_settings, broker, new_topic, effects):
    topic = await new_topic()
    event = SampleEvent("order-1", 1)
    await send(broker, topic, event)
    await send(broker, topic, event)
    await send(broker, topic, SampleEvent("order-1", 2))
    consumer = consumer_for(kafka_settings, broker, topic, handle=lambda e, _: effects.apply(e))
    await consumer.start()
    try:
        await eventually(lambda: _has(effects, 2), message="second event applied")
        assert await effects.rows() == [("order-1", 1), ("order-1", 2)]
    finally:
        await consumer.stop()


async def _has(effects, n):
    return await effects.count() >= n


async def test_an_invalid_message_goes_to_the_dlq_with_its_reason_and_the_next_one_is_processed(
        kafka_settings, broker, new_topic, effects):
    topic = await new_topic()
    await send(broker, topic, b"{not json", key="order-1")
    await send(broker, topic, SampleEvent("order-1", 2))
    consumer = consumer_for(kafka_settings, broker, topic, handle=lambda e, _: effects.apply(e))
    await consumer.start()
    try:
        await eventually(lambda: _has(effects, 1), message="valid event applied")
        [dead] = await read_topic(kafka_settings, f"{topic}.dlq", at_least=1)
        headers = {k: v.decode() for k, v in dead.headers}
        assert dead.value == b"{not json"
        assert dead.key == b"order-1"
        assert headers["dlq-reason"].startswith("invalid message: not a sample event")
        assert headers["dlq-original-topic"] == topic
        assert headers["dlq-original-offset"] == "0"
        assert await effects.rows() == [("order-1", 2)]
    finally:
        await consumer.stop()


async def test_a_message_that_keeps_failing_is_retried_then_dead_lettered_without_blocking_its_partition(
        kafka_settings, broker, new_topic, effects):
    topic = await new_topic()
    attempts = defaultdict(int)

    async def handle(event, _):
        attempts[event.seq] += 1
        if event.seq == 1:
            raise ConnectionError("downstream unavailable")
        if event.seq == 2 and attempts[2] < 3:
            raise ConnectionError("flaky")
        await effects.apply(event)

    for seq in (1, 2, 3):
        await send(broker, topic, SampleEvent("order-1", seq))
    consumer = consumer_for(kafka_settings, broker, topic, handle=handle, max_attempts=4)
    await consumer.start()
    try:
        await eventually(lambda: _has(effects, 2), message="events 2 and 3 applied")
        [dead] = await read_topic(kafka_settings, f"{topic}.dlq", at_least=1)
        headers = {k: v.decode() for k, v in dead.headers}
        assert json.loads(dead.value)["seq"] == 1
        assert headers["dlq-attempts"] == "4"
        assert "ConnectionError: downstream unavailable" in headers["dlq-reason"]
        assert attempts == {1: 4, 2: 3, 3: 1}
        assert await effects.rows() == [("order-1", 2), ("order-1", 3)]
    finally:
        await consumer.stop()


async def test_a_permanent_error_is_dead_lettered_at_once(kafka_settings, broker, new_topic, effects):
    topic = await new_topic()
    calls = []

    async def handle(event, _):
        calls.append(event.seq)
        if event.seq == 1:
            raise PermanentError("unknown shop demo-x")
        await effects.apply(event)

    await send(broker, topic, SampleEvent("order-1", 1))
    await send(broker, topic, SampleEvent("order-1", 2))
    consumer = consumer_for(kafka_settings, broker, topic, handle=handle)
    await consumer.start()
    try:
        await eventually(lambda: _has(effects, 1), message="event 2 applied")
        [dead] = await read_topic(kafka_settings, f"{topic}.dlq", at_least=1)
        assert dict(dead.headers)["dlq-reason"] == b"permanent error: unknown shop demo-x"
        assert calls == [1, 2]
    finally:
        await consumer.stop()
