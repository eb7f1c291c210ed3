"""The key-ordered consumer against a real Kafka and PostgreSQL (design §6.3, §6.4)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest

from delivery.consumer import KeyOrderedConsumer, rebalance_timeout_ms
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


async def test_a_handler_outliving_a_rebalance_is_cut_off_before_another_member_gets_its_partition(
        kafka_settings, broker, new_topic):
    """Issue 17: aiokafka's broker-side rebalance timeout defaulted to the 10 s session while the listener waited up
    to 20 s for running handlers; the broker then gave the partition to another member while the first one's
    handler still ran the same order (a double charge in a chaos run). Now the broker waits longer than the
    listener, and a handler still running at the listener's bound is cancelled: the record never runs twice at once,
    whichever member the partition goes to after the rebalance."""
    topic = await new_topic()
    invocations = {"running": 0, "started": 0}
    overlaps: list[str] = []
    handled: list[str] = []

    def handler(name: str):
        async def handle(event, _):
            invocations["running"] += 1
            invocations["started"] += 1
            if invocations["running"] > 1:
                overlaps.append(name)
            try:
                if invocations["started"] == 1:
                    await asyncio.sleep(3600)  # the first run: a gateway call that outlives the rebalance
                handled.append(name)
            finally:
                invocations["running"] -= 1
        return handle

    await send(broker, topic, SampleEvent("order-1", 1))
    group = f"g-{topic}"
    first = consumer_for(kafka_settings, broker, topic, handle=handler("first"), group=group, shutdown_timeout_s=2.0)
    second = consumer_for(kafka_settings, broker, topic, handle=handler("second"), group=group,
                          shutdown_timeout_s=2.0)
    assert rebalance_timeout_ms(ConsumerSettings(shutdown_timeout_s=2.0)) > 2_000
    await first.start()
    try:
        await eventually(lambda: asyncio.sleep(0, invocations["started"] == 1), timeout=30,
                         message="first handler running")
        await second.start()  # joins: the group rebalances while the first run hangs
        await eventually(lambda: asyncio.sleep(0, len(handled) == 1), timeout=60,
                         message="the record handled again by its owner after the rebalance")
        assert overlaps == [] and invocations["started"] == 2
    finally:
        await second.stop()
        await first.stop()


async def test_failures_while_the_database_is_unreachable_do_not_use_up_the_attempts(
        kafka_settings, broker, new_topic, effects):
    """Issue 17: a PostgreSQL restart (12-25 s in chaos runs) outlasted the 5 attempts' backoff (3 s), so orders were
    dead-lettered for CannotConnectNowError. While `available()` says the database is down, an attempt does not
    count; once it is back the record is handled, not dead-lettered."""
    topic = await new_topic()
    database_up = {"checks": 0}
    attempts = []

    async def available():
        database_up["checks"] += 1
        return database_up["checks"] > 4  # down for the first four failures

    async def handle(event, _):
        attempts.append(event.seq)
        if len(attempts) <= 4:
            raise ConnectionRefusedError("the database system is starting up")
        await effects.apply(event)

    await send(broker, topic, SampleEvent("order-1", 1))
    consumer = KeyOrderedConsumer(kafka_settings, group_id=f"g-{topic}", topics=[topic], decode=decode_sample,
                                  handle=handle, dead_letter=broker_raw_publisher(broker), available=available,
                                  settings=ConsumerSettings(backoff_initial_s=0.01, backoff_max_s=0.05,
                                                            max_attempts=2))
    await consumer.start()
    try:
        await eventually(lambda: _has(effects, 1), message="handled once the database is back")
        assert len(attempts) == 5  # four while it was down (not counted), then one that worked
        assert await effects.rows() == [("order-1", 1)]
    finally:
        await consumer.stop()
