"""Real contract events through the whole path: emit -> outbox -> relay -> Kafka -> decode -> apply once."""

from __future__ import annotations

import json

import pytest

from contracts.envelope import Envelope
from delivery.consumer import KeyOrderedConsumer
from delivery.dead_letter import broker_raw_publisher
from delivery.envelopes import decode_envelope
from delivery.kafka import kafka_publisher
from delivery.outbox import OutboxRelay
from delivery.units import apply_once, emit
from tests.integration.delivery.support import RelayCrash, RelayDyingBeforeMark
from tests.kafka_reading import read_topic
from tests.unit.contracts import samples
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def pool(pool):
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE seen (order_id text, type text)")
    return pool




async def test_an_emitted_event_redelivered_is_applied_once_and_bad_envelopes_are_dead_lettered_without_secrets(
        pool, broker, kafka_settings, new_topic):
    topic = await new_topic(partitions=2)
    placed = samples.order_placed()
    async with pool.acquire() as conn, conn.transaction():
        envelope = await emit(conn, placed, producer="checkout", correlation_id="chk-1")
    await conn_execute(pool, "UPDATE outbox SET topic = $1", topic)  # route the sample to this test's topic
    with pytest.raises(RelayCrash):
        await RelayDyingBeforeMark(pool, kafka_publisher(broker)).run_once()
    assert await OutboxRelay(pool, kafka_publisher(broker)).run_once() == 1
    assert await conn_fetchval(pool, "SELECT count(*) FROM outbox") == 0  # the token-bearing payload is gone
    bad = json.loads(envelope.to_bytes())
    del bad["data"]["amount"]  # schema violation; the data still carries the card token
    await broker.publish(json.dumps(bad).encode(), topic, key=placed.kafka_key().encode())

    async def handle(inbound, _record):
        async def apply(conn):
            await conn.execute("INSERT INTO seen VALUES ($1, $2)", placed.order_id, inbound.envelope.type)
        await apply_once(pool, consumer="test", inbound=inbound, apply=apply)

    consumer = KeyOrderedConsumer(kafka_settings, group_id=f"g-{topic}", topics=[topic], decode=decode_envelope,
                                  handle=handle, dead_letter=broker_raw_publisher(broker))
    await consumer.start()
    try:
        [dead] = await read_topic(kafka_settings, f"{topic}.dlq", at_least=1)
        await eventually(lambda: fetch_seen(pool), message="event applied")
    finally:
        await consumer.stop()
    assert await fetch_seen(pool) == [(placed.order_id, "order.placed.v1")]
    reason = dict(dead.headers)["dlq-reason"].decode()
    assert reason.startswith("invalid message: schema violation:") and "amount" in reason
    token = placed.payment.token.get_secret_value()
    assert token not in reason
    assert Envelope.from_bytes(envelope.to_bytes()).event() == placed


async def conn_execute(pool, sql, *args):
    async with pool.acquire() as conn:
        await conn.execute(sql, *args)


async def conn_fetchval(pool, sql, *args):
    async with pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def fetch_seen(pool):
    async with pool.acquire() as conn:
        return [tuple(r) for r in await conn.fetch("SELECT order_id, type FROM seen")]
