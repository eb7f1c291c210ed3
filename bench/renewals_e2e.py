"""End-to-end mode of `bench/renewals_bench.py` (`--end-to-end`, `make bench-renewals-e2e`): N subscriptions due on
the same day, renewed through the whole system at 200 ms gateway latency on 1Auth.

Processes (each `python -m ...`, one per service, fresh databases and topic prefix): the e-SCOTT emulator,
checkout, payment and subscription (dev clock on); notification and the SMTP sink with `--with-notification`.

1. Seeding (not measured, bench/renewals_seed.py): the demo shop through checkout's API, then N members whose card
   is registered at the emulator (4MemAdd) and known to payment, each with a monthly subscription started today:
   directly (default: 4MemAdd at the emulator, payment's own member repository, first-order OrderCompleted
   published) or with `--seed checkout` by N real first orders of the `subscription` cart at 0 ms latency.
2. Renewals (measured): 1Auth latency 200 ms at the emulator, then `POST /dev/clock {"advance_days": 32}` makes
   all N due at once. The bench reads the topics (type header and record timestamp only) until N cycles are
   settled: RenewalOrderRequested (subscription) -> OrderPlaced (checkout generated the renewal order) ->
   PaymentAuthorized (member 1Auth by KaiinId, no token) -> OrderCompleted -> RenewalCycleSettled.

Printed: renewal orders generated and authorized per second (from the clock move to the last one), total time,
emulator max in flight, CPU (utime + stime from /proc/<pid>/stat) of every service process and core-ms per
renewal, and checks (1Auth ok = N, no new 4MemAdd, one sampled renewal authorized by its member at the emulator).
The processes and their cost are measured by bench/renewals_processes.py, the seeding is bench/renewals_seed.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import renewals_seed as seeding
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from renewals_processes import (  # bench/ (the script's directory) is on sys.path, as for renewals_seed
    System,
    Usage,
    database_backends,
    database_work,
    launched,
    report_database_work,
)

from contracts.envelope import Envelope
from contracts.events import (
    OrderCompleted,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentOutcomeUnknown,
    RenewalCycleSettled,
    RenewalOrderRequested,
    RenewalPaymentFailed,
    SubscriptionStarted,
)
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS, SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS
from delivery.settings import KafkaSettings
from tests.e2e.stack import PG, Shop, Stack, drop_databases, fresh_databases, run_benchmark

TOPICS = (ORDERS_EVENTS, PAYMENTS_EVENTS, SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS)


@dataclass(kw_only=True)
class Tally:
    """Reads the topics from the beginning in the background: record timestamps (ms) per event type, and one
    renewal OrderPlaced (to check its authorization at the emulator)."""

    kafka: KafkaSettings
    stamps: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    sample: dict[str, Any] = field(default_factory=dict)
    since_ms: int = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka.servers, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(self.kafka.topic(t), p) for t in TOPICS
                   for p in consumer.partitions_for_topic(self.kafka.topic(t)) or ()]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while True:
                for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                    for record in records:
                        self._count(record.headers, record.timestamp, record.value)
        finally:
            await consumer.stop()

    def _count(self, headers: Any, timestamp: int, value: bytes) -> None:
        kind = dict(headers or ()).get("type", b"").decode()
        self.stamps[kind].append(timestamp)
        if kind == OrderPlaced.TYPE and self.since_ms and timestamp >= self.since_ms and not self.sample:
            self.sample = Envelope.from_bytes(value).data

    def count(self, kind: str, since_ms: int = 0) -> int:
        return sum(1 for t in self.stamps.get(kind, ()) if t >= since_ms)

    def reached(self, kind: str, since_ms: int, share: float = 1.0) -> float:
        """Seconds from `since_ms` until `share` of the records of `kind` since then were written (timestamps)."""
        stamps = sorted(t for t in self.stamps[kind] if t >= since_ms)
        return (stamps[max(round(share * len(stamps)) - 1, 0)] - since_ms) / 1000


async def wait_for(what: str, check: Any, *, timeout: float, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not reached within {timeout:.0f}s")
        await asyncio.sleep(every)


@dataclass(kw_only=True)
class InFlight:
    """The emulator's requests in flight, sampled while the renewals run."""

    peak: int = 0

    async def sample(self, shop: Shop) -> None:
        while True:
            self.peak = max(self.peak, (await shop.emulator("stats"))["in_flight"])
            await asyncio.sleep(0.05)


async def renew(shop: Shop, system: System, tally: Tally, *, count: int, args: argparse.Namespace) -> None:
    """Latency on, the dev clock one month on, until N cycles are settled; then the figures."""
    if args.with_notification:
        await wait_for("seeding mails out", lambda: _mails_stored(shop, 2 * count), timeout=args.timeout, every=1)
    await shop.set_faults({"seed": 9, "operations": {"1Auth": {"latency_ms": args.latency_ms}}})
    before, in_flight, handled = await shop.emulator("stats"), InFlight(), await consumer_metrics(shop, system)
    backends, work = await database_backends(system.databases), await database_work(system.databases)
    usage0, t0 = Usage.now(system, backends), time.time()
    tally.since_ms = since = int(t0 * 1000)
    sampler = asyncio.create_task(in_flight.sample(shop))
    moved = await shop.http.post(f"{system.urls['subscription']}/dev/clock", json={"advance_days": 32})
    moved.raise_for_status()

    async def settled() -> bool:
        return tally.count(RenewalCycleSettled.TYPE, since) >= count

    try:
        await wait_for(f"{count} renewal cycles settled", settled, timeout=args.timeout, every=0.1)
        wall = time.time() - t0
        usage1 = Usage.now(system, {**backends, **await database_backends(system.databases)})
    finally:
        sampler.cancel()
    after = await shop.emulator("stats")
    report(tally, since=since, count=count, wall=wall)
    report_handling(handled, await consumer_metrics(shop, system))
    print(f"emulator: max in flight {after['max_in_flight']} (while seeding at 0 ms: {before['max_in_flight']}; "
          f"sampled during renewals: {in_flight.peak}); 1Auth {_delta(before, after, '1Auth')}, "
          f"4MemAdd {_delta(before, after, '4MemAdd')}", flush=True)
    print(usage1.since(usage0, count=count, wall=wall), flush=True)
    report_database_work(work, await database_work(system.databases), count)
    await check_sample(shop, tally.sample)


async def consumer_metrics(shop: Shop, system: System) -> dict[tuple[str, str], list[float]]:
    """(service, topic) -> [handle seconds sum, records, retries] from each service's /metrics."""
    found: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for name in ("checkout", "payment", "subscription"):
        text = (await shop.http.get(f"{system.urls[name]}/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                column = {"kafka_record_handle_seconds_sum": 0, "kafka_record_handle_seconds_count": 1,
                          "kafka_record_retries_total": 2}.get(sample.name)
                if column is not None:
                    topic = sample.labels["topic"].removeprefix(system.kafka.topic_prefix)
                    found[(name, topic)][column] += sample.value
    return found


def report_handling(before: dict[tuple[str, str], list[float]], after: dict[tuple[str, str], list[float]]) -> None:
    """Per service and topic during the renewals: records handled, mean time in the handler, retries."""
    parts = []
    for key, (seconds, records, retries) in sorted(after.items()):
        old = before.get(key, [0.0, 0.0, 0.0])
        n = records - old[1]
        if n:
            parts.append(f"{key[0]}<{key[1]}: {n:.0f} records, mean {(seconds - old[0]) / n * 1000:.0f} ms, "
                         f"{retries - old[2]:.0f} retries")
    print("consumers during renewals: " + "; ".join(parts), flush=True)


def report(tally: Tally, *, since: int, count: int, wall: float) -> None:
    """Each step's count after the clock move, and when its last record was written."""
    for label, kind in (("renewals requested (RenewalOrderRequested)", RenewalOrderRequested.TYPE),
                        ("renewal orders generated (OrderPlaced)", OrderPlaced.TYPE),
                        ("renewal orders authorized (PaymentAuthorized)", PaymentAuthorized.TYPE),
                        ("renewal orders completed (OrderCompleted)", OrderCompleted.TYPE),
                        ("cycles settled (RenewalCycleSettled)", RenewalCycleSettled.TYPE)):
        n = tally.count(kind, since)
        if not n:
            print(f"{label}: none", flush=True)
            continue
        first, half, last = (tally.reached(kind, since, share) for share in (1 / n, 0.5, 1.0))
        print(f"{label}: {n} by +{last:.2f}s = {n / last:,.0f}/s (first +{first:.2f}s, half +{half:.2f}s)",
              flush=True)
    failed = {kind.split(".")[1]: tally.count(kind, since) for kind in
              (PaymentDeclined.TYPE, PaymentOutcomeUnknown.TYPE, RenewalPaymentFailed.TYPE)}
    print(f"not authorized: {failed}; total time (clock move -> {count} cycles settled): {wall:.2f}s", flush=True)


async def check_sample(shop: Shop, placed: dict[str, Any]) -> None:
    """One renewal order: its payment number names exactly one 1Auth at the emulator, by its member's KaiinId."""
    [tx] = await shop.emulator("transactions", MerchantFree1=placed["payment_number"])
    member = bool(tx["kaiin_id"]) and placed["payment"]["use_registered_card"] and placed["sealed_token"] is None
    print(f"sample renewal {placed['order_id']}: {tx['history'][0]['operate_id']} {tx['state']} by member "
          f"{tx['kaiin_id']} ({'member 1Auth, no token' if member else 'NOT a member authorization'})", flush=True)


def _delta(before: dict[str, Any], after: dict[str, Any], op: str) -> dict[str, int]:
    zero = {"requests": 0, "ok": 0, "errors": 0}
    old, new = before["operations"].get(op, zero), after["operations"].get(op, zero)
    return {k: new[k] - old[k] for k in zero}


async def _mails_stored(shop: Shop, expected: int) -> bool:
    return bool((await shop.http.get(f"{shop.stack.urls['smtp-sink']}/stats")).json()["stored"] >= expected)


async def seed_subscriptions(shop: Shop, system: System, tally: Tally, *, args: argparse.Namespace) -> None:
    count = args.subscriptions
    if args.seed == "checkout":
        how = seeding.by_checkouts(shop, count=count, concurrency=args.concurrency)
    else:
        how = seeding.directly(shop, env=system.env, kafka=system.kafka, count=count)
    await seeding.seed(how, count=count, started=lambda: tally.count(SubscriptionStarted.TYPE),
                       timeout=args.timeout)


async def end_to_end(args: argparse.Namespace, bootstrap: str) -> None:
    databases = await fresh_databases(PG, f"bench_renewals_e2e_{uuid.uuid4().hex[:6]}")  # per run
    try:
        async with launched(bootstrap, databases, args) as system:
            stack = Stack(env={}, log_path=system.log_path, urls=system.urls)
            shop = Shop(stack)
            tally = Tally(kafka=system.kafka)
            reader = asyncio.create_task(tally.run())
            try:
                await seeding.seed_shop(shop.http, system.urls["checkout"])
                await seed_subscriptions(shop, system, tally, args=args)
                await renew(shop, system, tally, count=args.subscriptions, args=args)
            finally:
                reader.cancel()
                await shop.http.aclose()
    finally:
        await drop_databases(PG, databases)


def main(args: argparse.Namespace) -> None:
    print(f"end to end: {args.subscriptions} subscriptions due the same day, 1Auth latency {args.latency_ms} ms, "
          f"{os.cpu_count()} cores, seeded {args.seed}, notification {'on' if args.with_notification else 'off'}, "
          f"settings {args.set or 'default'}; load average {os.getloadavg()[0]:.1f}", flush=True)
    run_benchmark(lambda bootstrap: end_to_end(args, bootstrap))
