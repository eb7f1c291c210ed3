"""End-to-end mode of `bench/renewals_bench.py` (`--end-to-end`, `make bench-renewals-e2e`): N subscriptions due on
the same day, renewed through the whole system at 200 ms gateway latency on 1Auth.

Processes (each `python -m ...`, one per service, fresh databases and topic prefix): the e-SCOTT emulator,
checkout, payment and subscription (dev clock on); notification and the SMTP sink with `--with-notification`.

1. Seeding (not measured): the demo shop through checkout's API, then N real first orders of the `subscription`
   cart, one member each, at 0 ms latency (`POST /v1/checkouts?wait=30`): payment registers each member's card
   at the emulator (4MemAdd) and authorizes; the subscription service starts N monthly subscriptions.
2. Renewals (measured): 1Auth latency 200 ms at the emulator, then `POST /dev/clock {"advance_days": 32}` makes
   all N due at once. The bench reads the topics (type header and record timestamp only) until N cycles are
   settled: RenewalOrderRequested (subscription) -> OrderPlaced (checkout generated the renewal order) ->
   PaymentAuthorized (member 1Auth by KaiinId, no token) -> OrderCompleted -> RenewalCycleSettled.

Printed: renewal orders generated and authorized per second (from the clock move to the last one), total time,
emulator max in flight, CPU (utime + stime from /proc/<pid>/stat) of every service process and core-ms per
renewal, and checks (1Auth ok = N, no new 4MemAdd, one sampled renewal authorized by its member at the emulator).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import renewals_seed as seeding  # bench/ (the script's directory) is on sys.path
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

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
from deploy.local.kafka import free_port
from deploy.local.run import local_env
from deploy.local.topics import create_all
from tests.e2e.stack import PG, Shop, Stack, drop_databases, fresh_databases, run_benchmark

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TOPICS = (ORDERS_EVENTS, PAYMENTS_EVENTS, SUBSCRIPTIONS_COMMANDS, SUBSCRIPTIONS_EVENTS)


@dataclass(frozen=True, kw_only=True)
class System:
    """The running processes (name -> pid), their URLs, and the Kafka settings they share."""

    pids: dict[str, int]
    urls: dict[str, str]
    env: dict[str, str]
    databases: dict[str, str]
    kafka: KafkaSettings
    log_path: Path


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """utime + stime of each process (all its threads), from /proc/<pid>/stat (one that is gone is left out)."""
    found = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot (/proc/stat): the machine's load, whoever caused it."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


async def database_backends(databases: dict[str, str]) -> dict[str, int]:
    """PostgreSQL backend pids serving this run's databases (their CPU is part of each renewal's cost)."""
    conn = await asyncpg.connect(PG)
    try:
        rows = await conn.fetch("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                                [url.rsplit("/", 1)[1] for url in databases.values()])
    finally:
        await conn.close()
    return {f"postgres:{r['datname']}:{r['pid']}": r["pid"] for r in rows}


async def database_work(databases: dict[str, str]) -> dict[str, tuple[int, int]]:
    """service -> (transactions committed, rows written) in its database so far (pg_stat_database)."""
    names = {url.rsplit("/", 1)[1]: service for service, url in databases.items()}
    conn = await asyncpg.connect(PG)
    try:
        rows = await conn.fetch("SELECT datname, xact_commit, tup_inserted + tup_updated + tup_deleted AS written "
                                "FROM pg_stat_database WHERE datname = ANY($1::text[])", list(names))
    finally:
        await conn.close()
    return {names[r["datname"]]: (int(r["xact_commit"]), int(r["written"])) for r in rows}


def report_database_work(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], count: int) -> None:
    parts = [f"{name} {(after[name][0] - old[0]) / count:.1f} transactions and {(after[name][1] - old[1]) / count:.1f}"
             f" rows written" for name, old in sorted(before.items()) if after[name][0] > old[0]]
    print(f"database work per renewal: {'; '.join(parts)}", flush=True)


def environment(bootstrap: str, databases: dict[str, str], *, names: list[str],
                extra: dict[str, str]) -> dict[str, str]:
    """What `make run` gives the processes (deploy.local.run.local_env), on this run's ports, databases, prefix."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_HTTP_PORT"))}
    env.update({f"{name.upper()}_HTTP_PORT": str(free_port()) for name in names})
    env.update({f"{name.upper()}_DATABASE_URL": url for name, url in databases.items()})
    env.update(DATABASE_URL=PG, KAFKA_BOOTSTRAP_SERVERS=bootstrap, KAFKA_TOPIC_PREFIX=f"rbench{os.getpid()}.",
               ESCOTT_EMULATOR_PORT=str(free_port()), SMTP_SINK_PORT=str(free_port()),
               SMTP_SINK_HTTP_PORT=str(free_port()), SMTP_SINK_MAILDIR=str(ROOT / ".cache" / "renewals-bench-mail"))
    env.update({f"{name.upper()}_LOG_LEVEL": "WARNING" for name in names})
    env.update(extra)
    return local_env(env)


def commands(env: dict[str, str], names: list[str]) -> dict[str, tuple[list[str], str]]:
    """name -> (command, health URL) of every process to start."""
    py = sys.executable
    found = {"emulator": ([py, "-m", "emulator", "--host", "127.0.0.1", "--port", env["ESCOTT_EMULATOR_PORT"]],
                          f"http://127.0.0.1:{env['ESCOTT_EMULATOR_PORT']}/_emulator/health")}
    if "notification" in names:
        found["smtp-sink"] = ([py, "-m", "deploy.local.smtp_sink", "--host", "127.0.0.1", "--smtp-port",
                               env["SMTP_SINK_PORT"], "--http-port", env["SMTP_SINK_HTTP_PORT"], "--maildir",
                               env["SMTP_SINK_MAILDIR"]], f"http://127.0.0.1:{env['SMTP_SINK_HTTP_PORT']}/health")
    for name in names:
        port = env[f"{name.upper()}_HTTP_PORT"]
        found[name] = ([py, "-m", f"services.{name}"], f"http://127.0.0.1:{port}/health")
    return found


@asynccontextmanager
async def launched(bootstrap: str, databases: dict[str, str], args: argparse.Namespace) -> AsyncIterator[System]:
    names = ["checkout", "payment", "subscription"] + (["notification"] if args.with_notification else [])
    env = environment(bootstrap, databases, names=names, extra=dict(kv.split("=", 1) for kv in args.set))
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=env["KAFKA_TOPIC_PREFIX"])
    await create_all(kafka)
    log_path = ROOT / ".cache" / "renewals-e2e-bench.log"
    log = open(log_path, "w")  # noqa: SIM115, ASYNC230 - once, shared by the children
    procs: dict[str, asyncio.subprocess.Process] = {}
    try:
        for name, (command, _) in commands(env, names).items():
            procs[name] = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env, stdout=log, stderr=log)
        urls = {name: health.rsplit("/", 1)[0].replace("/_emulator", "") for name, (_, health) in
                commands(env, names).items()}
        await healthy({name: health for name, (_, health) in commands(env, names).items()}, procs)
        yield System(pids={n: p.pid for n, p in procs.items()}, urls=urls, env=env, databases=databases,
                     kafka=kafka, log_path=log_path)
    finally:
        for proc in procs.values():
            with suppress(ProcessLookupError):
                proc.terminate()
        for proc in procs.values():
            async with asyncio.timeout(30):
                await proc.wait()
        log.close()


async def healthy(urls: dict[str, str], procs: dict[str, asyncio.subprocess.Process], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    async with httpx.AsyncClient(timeout=2) as http:
        while pending:
            for name, url in list(pending.items()):
                if procs[name].returncode is not None:
                    raise SystemExit(f"{name} exited with {procs[name].returncode} (see .cache/renewals-e2e-bench.log)")
                with suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        del pending[name]
            if time.monotonic() > deadline:
                raise SystemExit(f"not healthy within {timeout:.0f}s: {sorted(pending)}")
            await asyncio.sleep(0.2)


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


@dataclass(kw_only=True)
class Usage:
    """CPU seconds of this run's processes and database backends, and the machine's busy/total jiffies."""

    processes: dict[str, float]
    backends: dict[str, float]
    machine: tuple[float, float]

    @classmethod
    def now(cls, system: System, backends: dict[str, int]) -> Usage:
        return cls(processes=cpu_seconds(system.pids), backends=cpu_seconds(backends), machine=machine_busy())

    def since(self, before: Usage, *, count: int, wall: float) -> str:
        services = {k: v - before.processes.get(k, 0.0) for k, v in self.processes.items()
                    if k not in ("emulator", "smtp-sink")}
        emulator = self.processes.get("emulator", 0.0) - before.processes.get("emulator", 0.0)
        database = sum(v - before.backends.get(k, 0.0) for k, v in self.backends.items())
        busy = (self.machine[0] - before.machine[0]) / max(self.machine[1] - before.machine[1], 1)
        total = sum(services.values())
        return (f"CPU during renewals (utime+stime, s): {_fmt(services)}; services {total:.1f} core-s = "
                f"{total * 1000 / count:.2f} core-ms per renewal ({total / wall:.2f} cores busy); besides: "
                f"PostgreSQL backends of these databases {database:.1f} s ({database * 1000 / count:.2f} ms per "
                f"renewal), emulator {emulator:.1f} s; whole machine {busy:.0%} busy ({os.cpu_count()} cores)")


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


def _fmt(cpu: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))


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
    databases = await fresh_databases(PG, "bench_renewals_e2e")
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
