"""What every service process runs besides its own handlers: pool + migrations, producer, outbox relay,
consumers, the health report and the metrics registry. A service's `app.py` builds one of these in its FastAPI lifespan.

`start()` returns once the pool is ready and migrated (waiting, with backoff, while PostgreSQL does not answer):
the HTTP API serves from then on (it needs the database, not the broker: what it publishes goes through the
outbox). The producer's connection, then the outbox relay, and each consumer's group join go on in the background,
retried with backoff while the broker is unreachable (a process started while the broker is down waits for it
instead of exiting); `/health` answers 503 until every part runs, naming what is not ready yet (issue 17).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker

from delivery.batching import Batching, one_transaction
from delivery.cancellation import cancel_all, cancel_and_wait
from delivery.consumer import Decode, Handle, KeyOrderedConsumer
from delivery.db import create_pool, migrate
from delivery.dead_letter import broker_raw_publisher
from delivery.kafka import broker_answers, kafka_publisher, make_broker
from delivery.metrics import ServiceMetrics
from delivery.outbox import OutboxRelay, OutboxRow, Publish
from delivery.settings import ConsumerSettings, KafkaSettings, OutboxSettings
from delivery.tracing import Tracing

log = logging.getLogger(__name__)
R = TypeVar("R")
BROKER_STOP_TIMEOUT_S = 15.0
CONNECT_BACKOFF_S = (0.5, 5.0)
"""The first and the largest wait between attempts to reach the broker or PostgreSQL (doubling)."""
DATABASE_DOWN = (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError)
"""PostgreSQL not answering (refused, restarting, shutting down): waited for, unlike a wrong password or database."""
START_FAILED_EXIT_CODE = 3
"""The process's exit status when a part of its start that runs in the background failed for good."""


def exit_start_failed(reason: str) -> None:
    """What a service process does when a background part of its start (the producer's connection, a consumer's
    group join) failed with anything but the broker being unreachable: it exits, as a start that failed in the
    foreground does, so the supervisor or the orchestrator starts it again, instead of serving HTTP while it never
    consumes. `delivery.roles.run_service` installs this; in-process apps (tests) only log and stay unhealthy."""
    log.critical("%s; exiting now (status %d) so the supervisor restarts this process", reason,
                 START_FAILED_EXIT_CODE)
    logging.shutdown()
    os._exit(START_FAILED_EXIT_CODE)


def stay_unhealthy(reason: str) -> None:
    log.critical("%s; the service stays unhealthy", reason)


ON_START_FAILED: list[Callable[[str], None]] = [stay_unhealthy]
"""The reaction to a background start failure for this process (one element, replaced by `run_service`)."""


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
        self._connected = asyncio.Event()
        self._starting: list[asyncio.Task[None]] = []
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
        self._pool = await _until_reached(lambda: create_pool(self._database_url, max_size=self._pool_size),
                                          DATABASE_DOWN, f"{self.name}: PostgreSQL")
        async with self.pool.acquire() as conn:
            applied = await migrate(conn, self._migrations)
        log.info("%s: database ready, migrations applied now: %s", self.name, applied or "none")
        self._broker = make_broker(self._kafka, client_id=self.name)
        self._in_background(self._connect(), "connect")

    def _in_background(self, starting: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(starting, name=f"{self.name}-{what}")
        task.add_done_callback(self._background_done)
        self._starting.append(task)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        """A background start that ended on an error (not a cancellation at stop) is never tried again by itself:
        say so loudly and react as this process does (`ON_START_FAILED`: exit in a service process)."""
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        log.error("%s: %s failed", self.name, task.get_name(), exc_info=error)
        ON_START_FAILED[0](f"{self.name}: {task.get_name()} failed: {error!r}")

    async def _connect(self) -> None:
        """Connect the producer (retrying while the broker is unreachable), then start the outbox relay."""
        await _until_reached(self._broker_connect, (KafkaConnectionError,), f"{self.name}: Kafka producer")
        log.info("%s: Kafka producer connected", self.name)
        publish = self.tracing.traced_publish(kafka_publisher(self.broker, self._kafka))
        relay = OutboxRelay(self.pool, self._counted(publish),
                            batch_size=self._outbox.batch_size, idle_poll_s=self._outbox.idle_poll_s,
                            linger_s=self._outbox.linger_s)
        self._relay = asyncio.create_task(relay.run_forever(), name=f"{self.name}-outbox-relay")
        self._connected.set()

    async def _broker_connect(self) -> None:
        try:
            await self.broker.connect()
        except BaseException:
            with contextlib.suppress(Exception):  # the half-started producer, before the next attempt
                await self.broker.stop()
            raise

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
        self.consumers.append(consumer)
        self._in_background(self._join(consumer), f"join-{group_id}")

    async def _join(self, consumer: KeyOrderedConsumer[Any]) -> None:
        """After the producer (its dead letters need it): join the group, retrying while the broker is unreachable.
        The HTTP API serves meanwhile; the consumer is unhealthy until it fetches."""
        await self._connected.wait()
        await _until_reached(consumer.start, (KafkaConnectionError,), f"{self.name}: consumer {consumer.group_id}")

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
        await cancel_all(self._starting)
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
        if self._connected.is_set():
            try:  # the producer flushes what it holds; with Kafka gone that would wait forever
                async with asyncio.timeout(BROKER_STOP_TIMEOUT_S):
                    await self.broker.stop()
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
            "kafka": self._connected.is_set() and await broker_answers(self.broker, timeout=2.0),
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


async def _until_reached(attempt: Callable[[], Awaitable[R]], unreachable: tuple[type[BaseException], ...],
                         what: str) -> R:
    """`attempt()`, tried again while it fails with one of `unreachable`, waiting between tries (doubling)."""
    delay, largest = CONNECT_BACKOFF_S
    while True:
        try:
            return await attempt()
        except unreachable as exc:
            log.warning("%s: unreachable (%s: %s); trying again in %.1fs", what, type(exc).__name__, exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, largest)
