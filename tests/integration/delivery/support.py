"""A tiny event and an effects table: enough to watch the plumbing without any service's domain."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import asyncpg
from aiokafka.structs import ConsumerRecord

from delivery.db import migrate
from delivery.errors import InvalidMessage
from delivery.inbox import claim_event
from delivery.outbox import OutboxRelay


@dataclass(frozen=True)
class SampleEvent:
    key: str
    seq: int
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_bytes(self) -> bytes:
        return json.dumps({"event_id": str(self.event_id), "key": self.key, "seq": self.seq}).encode()

    def headers(self) -> list[tuple[str, bytes]]:
        return [("type", b"sample.v1")]


def decode_sample(record: ConsumerRecord) -> SampleEvent:
    try:
        body = json.loads(record.value)
        return SampleEvent(body["key"], int(body["seq"]), uuid.UUID(body["event_id"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidMessage(f"not a sample event: {type(exc).__name__}") from exc


class Effects:
    """Applies each event once (inbox) by inserting a row: the observable 'effect'."""

    def __init__(self, pool: asyncpg.Pool, consumer: str = "sample-consumer"):
        self.pool = pool
        self.consumer = consumer

    @classmethod
    async def create(cls, url: str) -> Effects:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=30)
        async with pool.acquire() as conn:
            await migrate(conn)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS effects (id bigserial PRIMARY KEY, key text, seq int, event_id uuid)")
        return cls(pool)

    async def apply(self, event: SampleEvent) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await claim_event(conn, consumer=self.consumer, event_id=event.event_id):
                return False
            await conn.execute("INSERT INTO effects (key, seq, event_id) VALUES ($1, $2, $3)",
                               event.key, event.seq, event.event_id)
            return True

    async def rows(self) -> list[tuple[str, int]]:
        async with self.pool.acquire() as conn:
            return [(r["key"], r["seq"]) for r in await conn.fetch("SELECT key, seq FROM effects ORDER BY id")]

    async def count(self) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM effects"))


class RelayCrash(Exception):
    pass


class RelayDyingBeforeMark(OutboxRelay):
    """A relay killed between publishing and deleting the rows (the window the inbox must cover)."""

    async def _delete_published(self, conn, ids):
        raise RelayCrash("killed after publishing")
