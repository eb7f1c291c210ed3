"""Prometheus metrics of one service process, served on `GET /metrics` (prometheus_client text format).

Every service has the delivery metrics: records consumed by outcome and their handling time, retries, consumer
lag and records in flight per partition, outbox rows published and waiting. A service adds gauges read from its
own database when scraped (`on_scrape`), e.g. payments needing an operator: that is what ops alert on
(design §6.2, §6.5), rather than on log lines. One registry per runtime, so several services can share a
process (tests) without clashing; a probe that fails or hangs is logged and skipped, never fails the scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from delivery.units import PoolSource

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[None]]
PROBE_TIMEOUT_S = 5.0
GATEWAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    def __init__(self, service: str):
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.records = Counter("kafka_records", "Records consumed, by outcome (handled, dead_lettered, revoked: "
                               "left to the partition's new owner during its retry backoff).",
                               ["group", "topic", "outcome"], registry=r)
        self.retries = Counter("kafka_record_retries", "Handler attempts that failed and were retried.",
                               ["group", "topic"], registry=r)
        self.handle_seconds = Histogram("kafka_record_handle_seconds",
                                        "Time spent handling one record (all attempts and dead-lettering; not the "
                                        "waits for a concurrency slot nor the backoff between attempts; in batch "
                                        "mode its share of the batch's time).",
                                        ["group", "topic"], registry=r)
        self.batches = Counter("kafka_batches", "Batches of records applied in one transaction (batch mode), by "
                               "outcome: committed, or failed (rolled back; its records handled one by one).",
                               ["group", "outcome"], registry=r)
        self.batch_records = Histogram("kafka_batch_records", "Records per batch (batch mode).", ["group"],
                                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r)
        self.lag = Gauge("kafka_consumer_lag", "Records of an assigned partition not yet handled (end - commit point).",
                         ["group", "topic", "partition"], registry=r)
        self.in_flight = Gauge("kafka_records_in_flight", "Records fetched and not yet finished.", ["group"],
                               registry=r)
        self.outbox_published = Counter("outbox_published", "Outbox rows published to Kafka.", registry=r)
        self.outbox_waiting = Gauge("outbox_waiting_rows", "Outbox rows not yet published.", registry=r)
        self._probes: list[Probe] = []

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, list(labels), registry=self.registry)

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, list(labels), registry=self.registry)

    def histogram(self, name: str, documentation: str, labels: Sequence[str] = (),
                  buckets: Sequence[float] = GATEWAY_BUCKETS) -> Histogram:
        return Histogram(name, documentation, list(labels), buckets=buckets, registry=self.registry)

    def on_scrape(self, probe: Probe) -> None:
        """`probe` refreshes gauges (e.g. a count from the database) before each scrape."""
        self._probes.append(probe)

    async def exposition(self) -> bytes:
        for probe in self._probes:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_S):
                    await probe()
            except Exception:
                log.warning("%s: metrics probe %s failed; its gauges keep their last values", self.service,
                            getattr(probe, "__qualname__", probe), exc_info=True)
        return generate_latest(self.registry)


def watch_counts(metrics: ServiceMetrics, source: PoolSource, *, name: str, documentation: str,
                 label: str, query: str) -> None:
    """A gauge `name{label=<column>}` set at each scrape from the one row `query` returns (column -> count)."""
    gauge = metrics.gauge(name, documentation, [label])

    async def probe() -> None:
        row = await source.pool.fetchrow(query)
        for column, value in (row or {}).items():
            gauge.labels(column).set(float(value or 0))

    metrics.on_scrape(probe)


def watch_value(metrics: ServiceMetrics, source: PoolSource, *, name: str, documentation: str,
                query: str) -> None:
    """A gauge set at each scrape from the single value `query` returns (null counts as 0)."""
    gauge = metrics.gauge(name, documentation)

    async def probe() -> None:
        gauge.set(float(await source.pool.fetchval(query) or 0))

    metrics.on_scrape(probe)
