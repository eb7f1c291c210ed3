"""What every service process runs besides its own handlers: pool + migrations, producer, outbox relay,
consumers, the health report and the metrics registry. A service's `app.py` builds one of these in its FastAPI lifespan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker

from delivery.batching import Batching, one_transaction
from delivery.cancellation import cancel_and_wait
from delivery.consumer import Decode, Handle, KeyOrderedConsumer
from delivery.db import create_pool, migrate
from delivery.dead_letter import broker_raw_publisher
from delivery.kafka import broker_answers, kafka_publisher, make_broker
from delivery.metrics import ServiceMetrics
from delivery.outbox import OutboxRelay, OutboxRow, Publish
from delivery.settings import ConsumerSettings, KafkaSettings, OutboxSettings
from delivery.tracing import Tracing

log = logging.getLogger(__name__)
BROKER_STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Component:
    name: str
    stop: Callable[[], Awaitable[None]]
    healthy: Callable[[], bool]


class ServiceRuntime:
    def __init__(self, *, name: str, database_url: str, kafka: KafkaSettings, migrations: Path,
                 outbox: OutboxSettings | None = None, pool_size: int = 20, metrics: ServiceMetrics | None = None):
        self.name = name
        self._database_url = database_url
        self._kafka = kafka
        self._migrations = migrations
        self._outbox = outbox or OutboxSettings()
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._broker: KafkaBroker | None = None
        self._relay: asyncio.Task[None] | None = None
        self.consumers: list[KeyOrderedConsumer[Any]] = []
        self._components: list[Component] = []
        self._resources: list[Any] = []
        self.metrics = metrics or ServiceMetrics(name)
        self.tracing = Tracing(name)
        self.metrics.on_scrape(self._report_delivery)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name}: runtime not started")
        return self._pool

    @property
    def broker(self) -> KafkaBroker:
        if self._broker is None:
            raise RuntimeError(f"{self.name}: runtime not started")
        return self._broker

    async def start(self) -> None:
        log.info("%s: starting (imports done)", self.name)  # bench.restart_bench times the start's phases by these
        self._pool = await create_pool(self._database_url, max_size=self._pool_size)
        async with self._pool.acquire() as conn:
            applied = await migrate(conn, self._migrations)
        log.info("%s: database ready, migrations applied now: %s", self.name, applied or "none")
        self._broker = make_broker(self._kafka, client_id=self.name)
        await self._broker.connect()
        publish = self.tracing.traced_publish(kafka_publisher(self._broker, self._kafka))
        relay = OutboxRelay(self._pool, self._counted(publish),
                            batch_size=self._outbox.batch_size, idle_poll_s=self._outbox.idle_poll_s,
                            linger_s=self._outbox.linger_s)
        self._relay = asyncio.create_task(relay.run_forever(), name=f"{self.name}-outbox-relay")

    async def add_consumer(self, *, group_id: str, topics: Iterable[str], decode: Decode[Any],
                           handle: Handle[Any], settings: ConsumerSettings | None = None,
                           batching: Batching[Any] | None = None) -> None:
        """`batching`: batch mode (`delivery.batching`); without its own `handle`, the records it accepts run
        through `handle` inside one transaction per batch (`one_transaction`)."""
        traced = self.tracing.traced_handle(handle, group_id=group_id)
        if batching is not None and batching.handle is None:
            batching = Batching(accepts=batching.accepts, handle=one_transaction(self, traced))
        consumer = KeyOrderedConsumer(self._kafka, group_id=group_id, topics=topics, decode=decode,
                                      handle=traced, dead_letter=broker_raw_publisher(self.broker),
                                      settings=settings, metrics=self.metrics, batching=batching,
                                      available=self._postgres_ok)
        await consumer.start()
        self.consumers.append(consumer)

    async def start_resource(self, resource: Any) -> None:
        """Start a service's `ServiceResources`; it is stopped after the consumers, in reverse order."""
        self._resources.append(resource)
        await resource.start(self)

    def add_component(self, name: str, *, stop: Callable[[], Awaitable[None]], healthy: Callable[[], bool]) -> None:
        """A service's own background worker (e.g. the mail dispatcher): in /health, stopped before the pool."""
        self._components.append(Component(name, stop, healthy))

    def _counted(self, publish: Publish) -> Publish:
        async def publish_counted(rows: Sequence[OutboxRow]) -> None:
            await publish(rows)
            self.metrics.outbox_published.inc(len(rows))

        return publish_counted

    async def _report_delivery(self) -> None:
        for consumer in self.consumers:
            consumer.report_progress()
        if self._pool is not None:
            self.metrics.outbox_waiting.set(await self._pool.fetchval("SELECT count(*) FROM outbox"))

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        for component in reversed(self._components):
            await component.stop()
        for resource in reversed(self._resources):
            try:
                await resource.stop()
            except Exception:
                log.exception("%s: a resource failed to stop", self.name)
        if self._relay is not None:
            await cancel_and_wait(self._relay)
        if self._broker is not None:
            try:  # the producer flushes what it holds; with Kafka gone that would wait forever
                async with asyncio.timeout(BROKER_STOP_TIMEOUT_S):
                    await self._broker.stop()
            except TimeoutError:
                log.warning("%s: Kafka producer did not stop in %.0fs (broker unreachable?); left behind", self.name,
                            BROKER_STOP_TIMEOUT_S)
        if self._pool is not None:
            try:  # close() waits for every connection to come back; never wait forever for a stuck one
                async with asyncio.timeout(10):
                    await self._pool.close()
            except TimeoutError:
                log.warning("%s: database connections still in use at shutdown; terminated", self.name)
                self._pool.terminate()
        await self.tracing.shutdown()

    async def health(self) -> dict[str, Any]:
        checks = {
            "postgres": await self._postgres_ok(),
            "kafka": self._broker is not None and await broker_answers(self._broker, timeout=2.0),
            "outbox_relay": self._relay is not None and not self._relay.done(),
            "consumers": all(c.healthy for c in self.consumers),
            **{component.name: component.healthy() for component in self._components},
        }
        return {"service": self.name, "status": "ok" if all(checks.values()) else "failing", "checks": checks}

    async def _postgres_ok(self) -> bool:
        if self._pool is None:
            return False
        try:
            async with self._pool.acquire(timeout=2.0) as conn:
                return await conn.fetchval("SELECT true") is True
        except Exception:
            return False
