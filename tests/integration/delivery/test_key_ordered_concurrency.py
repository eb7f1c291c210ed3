"""Different keys run concurrently, one key runs in order, and a crash loses or reorders nothing (§6.4)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from delivery.consumer import KeyOrderedConsumer
from delivery.dead_letter import broker_raw_publisher
from delivery.settings import ConsumerSettings
from tests.integration.delivery.support import Effects, SampleEvent, decode_sample
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
KEYS = [f"order-{k}" for k in range(5)]


class GatedHandler:
    """Holds each event with seq >= `open_below` until the test raises it; records concurrency per key."""

    def __init__(self, effects: Effects):
        self.effects = effects
        self._gate = asyncio.Condition()
        self._open_below = 0
        self.running: dict[str, int] = defaultdict(int)
        self.max_running = 0
        self.same_key_overlap = False

    async def open_below(self, seq: int) -> None:
        async with self._gate:
            self._open_below = seq
            self._gate.notify_all()

    @property
    def now_running(self) -> int:
        return sum(self.running.values())

    async def __call__(self, event: SampleEvent, _record) -> None:
        self.running[event.key] += 1
        self.same_key_overlap |= self.running[event.key] > 1
        self.max_running = max(self.max_running, self.now_running)
        try:
            async with self._gate:
                await self._gate.wait_for(lambda: event.seq < self._open_below)
            await self.effects.apply(event)
        finally:
            self.running[event.key] -= 1






async def publish_50_on_5_keys(broker, topic):
    for seq in range(10):
        for key in KEYS:
            await broker.publish(SampleEvent(key, seq).to_bytes(), topic, key=key.encode())


def start_consumer(kafka_settings, broker, topic, *, handler, concurrency):
    return KeyOrderedConsumer(kafka_settings, group_id=f"g-{topic}", topics=[topic], decode=decode_sample,
                              handle=handler, dead_letter=broker_raw_publisher(broker),
                              settings=ConsumerSettings(concurrency=concurrency))


async def test_fifty_messages_on_five_keys_run_five_at_once_and_resume_after_a_crash_in_key_order(
        kafka_settings, broker, new_topic, effects):
    topic = await new_topic(partitions=1)  # one partition: all concurrency comes from the key lanes
    await publish_50_on_5_keys(broker, topic)
    handler = GatedHandler(effects)
    first = start_consumer(kafka_settings, broker, topic, handler=handler, concurrency=16)
    await first.start()
    await eventually(lambda: _true(handler.now_running == 5), message="five handlers running")
    assert handler.max_running == 5

    await handler.open_below(4)  # seq 0-3 of every key complete; seq 4 of each hangs mid-flight: "crash" now
    await eventually(lambda: _at_least(effects, 20), message="20 effects")
    await eventually(lambda: _true(handler.now_running == 5), message="five handlers hanging")
    await first.abort()
    assert await effects.count() == 20

    await handler.open_below(10)
    second = start_consumer(kafka_settings, broker, topic, handler=handler, concurrency=16)
    await second.start()
    try:
        await eventually(lambda: _at_least(effects, 50), message="all 50 effects")
    finally:
        await second.stop()
    by_key = defaultdict(list)
    for key, seq in await effects.rows():
        by_key[key].append(seq)
    assert by_key == {key: list(range(10)) for key in KEYS}
    assert handler.max_running == 5
    assert not handler.same_key_overlap


async def test_the_concurrency_limit_caps_handlers_running_at_once(kafka_settings, broker, new_topic, effects):
    topic = await new_topic(partitions=1)
    await publish_50_on_5_keys(broker, topic)
    handler = GatedHandler(effects)
    consumer = start_consumer(kafka_settings, broker, topic, handler=handler, concurrency=3)
    await consumer.start()
    try:
        await eventually(lambda: _true(handler.now_running == 3), message="three handlers running")
        await handler.open_below(10)
        await eventually(lambda: _at_least(effects, 50), message="all 50 effects")
    finally:
        await consumer.stop()
    assert handler.max_running == 3
    assert not handler.same_key_overlap


async def _true(value: bool) -> bool:
    return value


async def _at_least(effects: Effects, n: int) -> bool:
    return await effects.count() >= n
