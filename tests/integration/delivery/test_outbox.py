"""Outbox + relay against real PostgreSQL and Kafka (design §6.3)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest

from delivery.cancellation import cancel_and_wait
from delivery.kafka import kafka_publisher, make_broker
from delivery.outbox import OutboxRelay, add_to_outbox
from tests.integration.delivery.support import RelayCrash, RelayDyingBeforeMark, SampleEvent
from tests.kafka_reading import read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]








async def stage(pool, topic, *events, rollback=False):
    class Rollback(Exception):
        pass

    try:
        async with pool.acquire() as conn, conn.transaction():
            for event in events:
                await add_to_outbox(conn, topic=topic, key=event.key, envelope=event)
            if rollback:
                raise Rollback
    except Rollback:
        pass


def seqs(records):
    return [json.loads(r.value)["seq"] for r in records]


async def test_an_event_staged_in_a_rolled_back_transaction_is_never_published(pool, broker, new_topic,
                                                                               kafka_settings):
    topic = await new_topic()
    await stage(pool, topic, SampleEvent("order-1", 1), rollback=True)
    await stage(pool, topic, SampleEvent("order-2", 2))

    assert await OutboxRelay(pool, kafka_publisher(broker)).run_once() == 1
    assert seqs(await read_topic(kafka_settings, topic, at_least=1)) == [2]


async def test_a_committed_event_is_published_exactly_once_per_relay_pass(pool, broker, new_topic,
                                                                         kafka_settings):
    topic = await new_topic()
    await stage(pool, topic, *(SampleEvent("order-1", i) for i in range(3)))
    relay = OutboxRelay(pool, kafka_publisher(broker))

    assert await relay.run_once() == 3
    assert await relay.run_once() == 0
    records = await read_topic(kafka_settings, topic, at_least=3)
    assert seqs(records) == [0, 1, 2]
    assert {r.key for r in records} == {b"order-1"}
    assert all(dict(r.headers)["type"] == b"sample.v1" for r in records)


async def test_a_relay_killed_after_publishing_republishes_and_the_inbox_keeps_one_effect(
        pool, broker, new_topic, kafka_settings, database_url):
    from delivery.consumer import KeyOrderedConsumer
    from delivery.dead_letter import broker_raw_publisher
    from tests.integration.delivery.support import Effects, decode_sample
    from tests.waiting import eventually

    topic = await new_topic()
    await stage(pool, topic, SampleEvent("order-1", 7))
    with pytest.raises(RelayCrash):
        await RelayDyingBeforeMark(pool, kafka_publisher(broker)).run_once()
    assert await OutboxRelay(pool, kafka_publisher(broker)).run_once() == 1
    assert len(await read_topic(kafka_settings, topic, at_least=2)) == 2  # the duplicate is real

    effects = await Effects.create(database_url)
    consumer = KeyOrderedConsumer(kafka_settings, group_id=f"g-{topic}", topics=[topic], decode=decode_sample,
                                  handle=lambda event, _: effects.apply(event),
                                  dead_letter=broker_raw_publisher(broker))
    await consumer.start()
    try:
        await eventually(lambda: _committed(kafka_settings, f"g-{topic}", topic=topic, expected=2),
                         message="both consumed")
        assert await effects.rows() == [("order-1", 7)]
    finally:
        await consumer.stop()
        await effects.pool.close()


async def _committed(kafka_settings, group, *, topic, expected):
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic) >= expected


async def test_several_relays_publish_every_event_once_and_in_order_per_key(pool, broker, new_topic,
                                                                            kafka_settings):
    topic = await new_topic(partitions=3)
    events = [SampleEvent(f"order-{i % 5}", i) for i in range(300)]
    for chunk in range(0, 300, 50):
        await stage(pool, topic, *events[chunk:chunk + 50])
    brokers = [make_broker(kafka_settings, client_id=f"replica-{i}") for i in range(4)]  # one per replica
    for replica in brokers:
        await replica.connect()
    relays = [OutboxRelay(pool, kafka_publisher(b), batch_size=7) for b in brokers]

    async def drain(relay):
        while await relay.run_once():
            pass

    await asyncio.gather(*(drain(r) for r in relays))
    await asyncio.gather(*(drain(r) for r in relays))  # a key deferred in one pass goes out in the next
    for replica in brokers:
        await replica.stop()

    records = await read_topic(kafka_settings, topic, at_least=300)
    by_key = defaultdict(list)
    for record in records:
        by_key[record.key.decode()].append(json.loads(record.value)["seq"])
    assert sorted(s for v in by_key.values() for s in v) == list(range(300))
    for key, got in by_key.items():
        assert got == sorted(got), f"{key} out of order"


async def test_a_topic_prefix_routes_logical_topics_to_the_environment_s_own(pool, isolated_kafka):
    from contracts.topics import ORDERS_EVENTS

    broker = make_broker(isolated_kafka, client_id="test-prefix")
    await broker.connect()
    try:
        await stage(pool, ORDERS_EVENTS, SampleEvent("order-1", 5))
        assert await OutboxRelay(pool, kafka_publisher(broker, isolated_kafka)).run_once() == 1
    finally:
        await broker.stop()
    records = await read_topic(isolated_kafka, isolated_kafka.topic(ORDERS_EVENTS), at_least=1)
    assert seqs(records) == [5]


async def test_an_event_committed_just_after_a_pass_found_nothing_goes_out_without_waiting_for_the_idle_poll(
        pool, broker, new_topic, kafka_settings):
    topic = await new_topic()

    class RelayRacedByACommit(OutboxRelay):
        """An event commits (and NOTIFYs) right after a pass came back empty, before the relay sleeps."""

        staged = False

        async def run_once(self) -> int:
            published = await super().run_once()
            if published == 0 and not self.staged:
                self.staged = True
                await stage(pool, topic, SampleEvent("order-1", 1))
            return published

    relay = RelayRacedByACommit(pool, kafka_publisher(broker), idle_poll_s=60)
    running = asyncio.create_task(relay.run_forever())
    try:
        records = await read_topic(kafka_settings, topic, at_least=1, timeout=10)
    finally:
        await cancel_and_wait(running)
    assert seqs(records) == [1]


async def test_a_lingering_relay_publishes_the_rows_committed_during_its_linger_in_the_same_pass(
        pool, broker, new_topic, kafka_settings):
    topic = await new_topic()
    publish = kafka_publisher(broker)
    passes: list[list[int]] = []

    async def recorded(rows):
        passes.append([json.loads(row.payload)["seq"] for row in rows if row.topic == topic])
        await publish(rows)

    relay = OutboxRelay(pool, recorded, idle_poll_s=60, linger_s=2.0)
    running = asyncio.create_task(relay.run_forever())
    try:
        for seq in range(3):  # three transactions: the first one's NOTIFY wakes the relay, which lingers
            await stage(pool, topic, SampleEvent("order-1", seq))
        records = await read_topic(kafka_settings, topic, at_least=3, timeout=20)
    finally:
        await cancel_and_wait(running)
    assert seqs(records) == [0, 1, 2]
    assert [p for p in passes if p] == [[0, 1, 2]]


async def test_a_relay_started_while_postgresql_refuses_connections_keeps_trying_and_publishes(
        pool, broker, new_topic, kafka_settings):
    topic = await new_topic()
    await stage(pool, topic, SampleEvent("order-1", 1))

    class RestartingPool:
        """The pool while PostgreSQL restarts: its first connections are refused, then it answers again."""

        refusals = 2

        def acquire(self, *args, **kwargs):
            if self.refusals:
                self.refusals -= 1
                raise ConnectionRefusedError("the database system is starting up")
            return pool.acquire(*args, **kwargs)

    running = asyncio.create_task(OutboxRelay(RestartingPool(), kafka_publisher(broker)).run_forever())
    try:
        records = await read_topic(kafka_settings, topic, at_least=1, timeout=30)
        assert not running.done()
    finally:
        await cancel_and_wait(running)
    assert seqs(records) == [1]
