"""Batch mode of the key-ordered consumer against a real Kafka and PostgreSQL (design §6.3, §6.4): the ready
records of different keys applied in one transaction, each key in offset order, a poison record dead-lettered
alone, and a crash in the middle of a batch redelivered with no double effect."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from delivery.batching import Batching, one_transaction
from delivery.consumer import KeyOrderedConsumer
from delivery.dead_letter import broker_raw_publisher
from delivery.errors import PermanentError
from delivery.inbox import claim_event
from delivery.settings import ConsumerSettings
from delivery.units import BatchAbandoned, PostgresUnitOfWork, UnitOfWorkFactory, notify, shared_transaction
from tests.integration.delivery.support import SampleEvent, decode_sample
from tests.kafka_reading import read_topic
from tests.unit.contracts import samples
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
KEYS = [f"order-{n}" for n in range(12)]
PER_KEY = 4


@dataclass(frozen=True, kw_only=True)
class Source:
    pool: asyncpg.Pool


class SampleUnitOfWork(PostgresUnitOfWork):
    SERVICE = "sample-consumer"


class Apply:
    """A handler as the services write them: one unit of work, inbox claim and effect; the effect row keeps the
    id of the transaction that wrote it, and the handler checks that the key's previous record was applied."""

    def __init__(self, pool: asyncpg.Pool, *, poison_seq: int | None = None) -> None:
        self.uow = UnitOfWorkFactory(Source(pool=pool), PostgresUnitOfWork)
        self.poison_seq = poison_seq
        self.hold: asyncio.Event | None = None
        self.holding = asyncio.Event()
        self.out_of_order: list[tuple[str, int]] = []
        self.written: dict[int, list[str]] = {}  # transaction id -> keys written in it
        self.held_xact: int | None = None

    async def __call__(self, event: SampleEvent, _: Any) -> None:
        async with self.uow() as uow:
            if not await claim_event(uow.conn, consumer="sample-consumer", event_id=event.event_id):
                return
            last = await uow.conn.fetchval("SELECT coalesce(max(seq), -1) FROM effects WHERE key = $1", event.key)
            before = event.seq - 1 if event.seq - 1 != self.poison_seq else event.seq - 2
            if last != before:
                self.out_of_order.append((event.key, event.seq))
            xact = await uow.conn.fetchval("INSERT INTO effects (key, seq, event_id, xact) VALUES ($1, $2, $3, "
                                           "txid_current()) RETURNING xact", event.key, event.seq, event.event_id)
            self.written.setdefault(xact, []).append(event.key)
            if event.seq == self.poison_seq:
                raise PermanentError(f"seq {event.seq} can never apply")
            if self.hold is not None and event.key == KEYS[-1]:
                self.held_xact = xact
                self.holding.set()
                await self.hold.wait()  # the batch is stuck here, its earlier records written, not committed


@pytest.fixture
async def table(effects):
    async with effects.pool.acquire() as conn:
        await conn.execute("ALTER TABLE effects ADD COLUMN IF NOT EXISTS xact bigint")
    return effects


async def publish_all(broker, topic: str) -> list[SampleEvent]:
    events = [SampleEvent(key, seq) for seq in range(PER_KEY) for key in KEYS]  # keys interleaved
    for event in events:
        await broker.publish(event.to_bytes(), topic, key=event.key.encode())
    return events


def batch_consumer(kafka_settings, broker, topic, *, pool, handle, **settings) -> KeyOrderedConsumer[SampleEvent]:
    return KeyOrderedConsumer(kafka_settings, group_id=f"g-{topic}", topics=[topic], decode=decode_sample,
                              handle=handle, dead_letter=broker_raw_publisher(broker),
                              settings=ConsumerSettings(backoff_initial_s=0.01, max_attempts=2, **settings),
                              batching=Batching(handle=one_transaction(Source(pool=pool), handle)))


async def rows_by_key(pool: asyncpg.Pool) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for row in await pool.fetch("SELECT key, seq FROM effects ORDER BY id"):
        found.setdefault(row["key"], []).append(row["seq"])
    return found


async def test_ready_records_of_different_keys_share_a_transaction_and_each_key_stays_in_order(
        kafka_settings, broker, new_topic, table):
    topic = await new_topic()
    await publish_all(broker, topic)
    apply = Apply(table.pool)
    consumer = batch_consumer(kafka_settings, broker, topic, pool=table.pool, handle=apply)
    await consumer.start()
    try:
        await eventually(lambda: _count(table.pool, len(KEYS) * PER_KEY), message="every record applied")
        assert await rows_by_key(table.pool) == {key: list(range(PER_KEY)) for key in KEYS}
        assert apply.out_of_order == []
        transactions = await table.pool.fetchval("SELECT count(DISTINCT xact) FROM effects")
        assert transactions <= len(KEYS) * PER_KEY / 4, f"{transactions} transactions for {len(KEYS) * PER_KEY}"
        committed = consumer._metrics.registry.get_sample_value(
            "kafka_batches_total", {"group": consumer.group_id, "outcome": "committed"})
        assert committed == transactions
        await eventually(lambda: _committed_offset(consumer, topic, len(KEYS) * PER_KEY), message="offset committed")
    finally:
        await consumer.stop()


async def test_a_poison_record_goes_to_the_dlq_alone_and_the_others_of_its_batch_apply_once(
        kafka_settings, broker, new_topic, table):
    topic = await new_topic()
    await publish_all(broker, topic)
    apply = Apply(table.pool, poison_seq=1)  # every key's second record: 12 poison records among 48
    consumer = batch_consumer(kafka_settings, broker, topic, pool=table.pool, handle=apply)
    await consumer.start()
    try:
        await eventually(lambda: _count(table.pool, len(KEYS) * (PER_KEY - 1)), message="the good records applied")
        dead = await read_topic(kafka_settings, f"{topic}.dlq", at_least=len(KEYS))
        assert {dict(d.headers)["dlq-reason"] for d in dead} == {b"permanent error: seq 1 can never apply"}
        assert sorted(d.key.decode() for d in dead) == sorted(KEYS)
        assert await rows_by_key(table.pool) == {key: [0, 2, 3] for key in KEYS}  # nothing of a poison kept
        assert apply.out_of_order == []
        await eventually(lambda: _committed_offset(consumer, topic, len(KEYS) * PER_KEY), message="offset committed")
    finally:
        await consumer.stop()


async def test_a_crash_in_the_middle_of_a_batch_is_redelivered_with_no_double_effect(
        kafka_settings, broker, new_topic, table):
    topic = await new_topic()
    events = await publish_all(broker, topic)
    stuck = Apply(table.pool)
    stuck.hold = asyncio.Event()
    first = batch_consumer(kafka_settings, broker, topic, pool=table.pool, handle=stuck)
    await first.start()
    async with asyncio.timeout(30):
        await stuck.holding.wait()
    await first.abort()  # as kill -9: the batch's transaction never commits, no offset moves
    assert len(stuck.written[stuck.held_xact]) > 1, "the stuck batch should hold several records"
    assert await table.pool.fetchval("SELECT count(*) FROM effects WHERE xact = $1", stuck.held_xact) == 0

    again = batch_consumer(kafka_settings, broker, topic, pool=table.pool, handle=Apply(table.pool))
    await again.start()
    try:
        await eventually(lambda: _count(table.pool, len(events)), message="every record applied after the crash")
        assert await rows_by_key(table.pool) == {key: list(range(PER_KEY)) for key in KEYS}
        assert await table.pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'sample-consumer'") == len(events)
    finally:
        await again.stop()


async def _count(pool: asyncpg.Pool, n: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM effects") >= n


async def _committed_offset(consumer: KeyOrderedConsumer[Any], topic: str, end: int) -> bool:
    return any(o.committed == end for tp, o in consumer._offsets.items() if tp.topic == topic)


async def test_events_emitted_in_a_batch_are_staged_in_emit_order_at_its_commit_and_not_at_all_if_abandoned(
        table):
    uow = UnitOfWorkFactory(Source(pool=table.pool), SampleUnitOfWork)
    events = [samples.payment_authorized(), samples.order_completed(), samples.payment_authorized()]
    async with table.pool.acquire() as conn:
        async with shared_transaction(conn):
            for event in events:
                async with uow() as unit:
                    await unit.emit(event, correlation_id="c-1")
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0  # staged in one statement at COMMIT
        staged = await conn.fetch("SELECT topic, payload FROM outbox ORDER BY id")
        assert [(r["topic"], json.loads(r["payload"])["type"]) for r in staged] == [
            (e.TOPIC, e.TYPE) for e in events]

        with pytest.raises(BatchAbandoned):
            async with shared_transaction(conn):
                async with uow() as unit:
                    await unit.emit(samples.order_completed(), correlation_id="c-2")
                with contextlib.suppress(LookupError):
                    async with uow():
                        raise LookupError("the second record fails")
        assert await conn.fetchval("SELECT count(*) FROM outbox") == len(events)


async def test_notifications_in_a_batch_arrive_once_it_committed_and_not_at_all_if_abandoned(table):
    uow = UnitOfWorkFactory(Source(pool=table.pool), SampleUnitOfWork)
    heard: list[str] = []

    def hear(*args: Any) -> None:
        heard.append(args[-1])

    listener = await table.pool.acquire()
    await listener.add_listener("batch_test", hear)
    try:
        async with table.pool.acquire() as conn:
            with pytest.raises(BatchAbandoned):
                async with shared_transaction(conn):
                    async with uow() as unit:
                        await notify(unit.conn, "batch_test", "abandoned")
                    with contextlib.suppress(LookupError):
                        async with uow():
                            raise LookupError("the second record fails")
            async with shared_transaction(conn):
                for n in range(3):
                    async with uow() as unit:
                        await notify(unit.conn, "batch_test", f"p{n}")
                assert await conn.fetchval("SELECT 1") == 1 and heard == []  # nothing before the COMMIT

        async def all_heard() -> bool:
            return len(heard) >= 3

        await eventually(all_heard, timeout=10, message="the committed batch's notifications")
        assert heard == ["p0", "p1", "p2"]  # and nothing of the abandoned batch, committed before them
    finally:
        await listener.remove_listener("batch_test", hear)
        await table.pool.release(listener)
