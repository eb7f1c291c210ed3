"""Read what is on a topic, from the beginning, without a consumer group (tests only)."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from delivery.settings import KafkaSettings


async def read_topic(kafka: KafkaSettings, topic: str, *, at_least: int, timeout: float = 20.0,
                     settle: float = 0.5) -> list[ConsumerRecord]:
    """All records of `topic` once at least `at_least` arrived (then `settle` more seconds for extras)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.servers, enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        partitions = consumer.partitions_for_topic(topic)
        while not partitions:  # a topic created a moment ago may not be in the broker's metadata yet
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: not in the broker's metadata after {timeout}s")
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await asyncio.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord] = []
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            batch = await consumer.getmany(timeout_ms=100)
            for recs in batch.values():
                records.extend(recs)
            if settle_until is None and len(records) >= at_least:
                settle_until = time.monotonic() + settle
        if len(records) < at_least:
            raise AssertionError(f"{topic}: {len(records)} records after {timeout}s, wanted {at_least}")
        return records
    finally:
        await consumer.stop()
