"""Benchmark of the subscription service's renewal generation (issue 9): N subscriptions due on the same day.

The service runs as its own process (`python -m services.subscription`, dev clock on) on real Kafka and
PostgreSQL. N first orders (`OrderCompleted`, `subscription` cart, monthly, all the same day) are published and
consumed into N subscriptions; then `POST /dev/clock {"advance_days": 32}` makes all of them due at once, and the
benchmark measures until N `RenewalOrderRequested` are on `subscriptions.commands`:

- renewals per second: committed by the scheduler (cycles rows) and published on Kafka (end offsets);
- CPU of the service process (utime + stime from /proc/<pid>/stat) per renewal, in core-milliseconds;
- the same for the consumption of the N first orders (subscriptions started per second).

With `--end-to-end` (`make bench-renewals-e2e`) the whole renewal path is measured instead: checkout generating
the orders and payment authorizing them by member at the emulator with 200 ms latency (bench/renewals_e2e.py).

    .venv/bin/python bench/renewals_bench.py [--subscriptions 10000] [--batch-size 500] [--timeout 600]
    .venv/bin/python bench/renewals_bench.py --end-to-end [--subscriptions 10000] [--latency-ms 200]
        [--seed direct|checkout] [--concurrency 64] [--with-notification] [--set NAME=VALUE ...]

Kafka: `KAFKA_BOOTSTRAP_SERVERS`, else a throw-away local broker (deploy/local/kafka.py); PostgreSQL:
`DATABASE_URL`, else the local cluster (deploy/local/postgres.sh). Bounded by counts and `--timeout`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import renewals_e2e  # noqa: E402 - bench/ (this script's directory) is on sys.path
from infra import ensure_local_postgres, kafka_bootstrap  # noqa: E402 - bench/ is on sys.path

from contracts.envelope import Envelope  # noqa: E402 - after the path set-up, so the script runs from anywhere
from contracts.events.common import Buyer, SubscriptionTerms  # noqa: E402
from contracts.topics import SUBSCRIPTIONS_COMMANDS, topics_to_create  # noqa: E402
from delivery.kafka import ensure_topics  # noqa: E402
from delivery.settings import KafkaSettings  # noqa: E402
from deploy.local.kafka import free_port  # noqa: E402
from tests.unit.contracts import samples  # noqa: E402

JST = timezone(timedelta(hours=9))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, kw_only=True)
class Service:
    pid: int
    url: str
    database_url: str
    kafka: KafkaSettings


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its own threads; not its children), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def publish_first_orders(kafka: KafkaSettings, count: int) -> None:
    """N completed first orders of the `subscription` cart, dated today (JST), monthly, one member each."""
    today = datetime.now(JST).date()
    base = samples.order_completed()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, enable_idempotence=True, linger_ms=10)
    await producer.start()
    try:
        futures = []
        for n in range(count):
            event = base.model_copy(update={
                "order_id": f"bench-{n:06}", "checkout_id": f"chk-{n:06}", "order_date": today,
                "subscription_id": None, "cycle_no": None, "subscription": SubscriptionTerms(every=1, unit="month"),
                "buyer": Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="t@example.jp", member_id=f"m-{n}")})
            envelope = Envelope.wrap(event, producer="bench", correlation_id=event.order_id)
            futures.append(await producer.send(kafka.topic(event.TOPIC), envelope.to_bytes(),
                                               key=event.kafka_key().encode(), headers=envelope.headers()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def published(kafka: KafkaSettings, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(kafka.topic(topic), p) for p in consumer.partitions_for_topic(kafka.topic(topic)) or ()]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


async def wait_until(check: Callable[[], Awaitable[bool]], *, timeout: float, what: str) -> float:
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"{what}: not reached within {timeout:.0f}s")
        await asyncio.sleep(0.05)
    return time.perf_counter()


async def fresh_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@asynccontextmanager
async def service_process(admin_url: str, bootstrap: str, *, batch_size: int) -> AsyncIterator[Service]:
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
    await ensure_topics(kafka, topics_to_create())
    database_url = await fresh_database(admin_url)
    port = free_port()
    env = {**os.environ, "SUBSCRIPTION_DATABASE_URL": database_url, "SUBSCRIPTION_HTTP_PORT": str(port),
           "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
           "SUBSCRIPTION_DEV_CLOCK": "true", "SUBSCRIPTION_LOG_LEVEL": "WARNING",
           "SUBSCRIPTION_SCHEDULER__BATCH_SIZE": str(batch_size)}
    log = open(ROOT / ".cache" / "renewals-bench-service.log", "w")  # noqa: SIM115, ASYNC230 - once, for the child
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.subscription", cwd=ROOT, env=env,
                                                   stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            async def healthy() -> bool:
                try:
                    return (await http.get("/health")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_until(healthy, timeout=60, what="service healthy")
        yield Service(pid=process.pid, url=url, database_url=database_url, kafka=kafka)
    finally:
        process.terminate()
        async with asyncio.timeout(30):
            await process.wait()
        log.close()


async def bench(service: Service, *, count: int, timeout: float) -> None:
    conn = await asyncpg.connect(service.database_url)
    try:
        async def counted(table: str) -> int:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608 - two fixed names

        cpu0, t0 = cpu_seconds(service.pid), time.perf_counter()
        await publish_first_orders(service.kafka, count)
        t1 = await wait_until(lambda: _at_least(counted("subscriptions"), count), timeout=timeout,
                              what=f"{count} subscriptions started")
        cpu1 = cpu_seconds(service.pid)
        report("started (consume OrderCompleted -> subscription + cycle 1 + SubscriptionStarted)", count=count,
               seconds=t1 - t0, cpu=cpu1 - cpu0)

        async with httpx.AsyncClient(base_url=service.url) as http:
            t2 = time.perf_counter()
            moved = await http.post("/dev/clock", json={"advance_days": 32})
            moved.raise_for_status()
        t3 = await wait_until(lambda: _at_least(counted("cycles"), 2 * count), timeout=timeout,
                              what=f"{count} renewal cycles recorded")
        cpu3 = cpu_seconds(service.pid)
        t4 = await wait_until(lambda: _at_least(published(service.kafka, SUBSCRIPTIONS_COMMANDS), count),
                              timeout=timeout, what=f"{count} RenewalOrderRequested on Kafka")
        cpu4 = cpu_seconds(service.pid)
    finally:
        await conn.close()
    report("renewals recorded (cycle + subscription + outbox, committed)", count=count, seconds=t3 - t2,
           cpu=cpu3 - cpu1)
    report("renewals published (RenewalOrderRequested on Kafka, acks=all)", count=count, seconds=t4 - t2,
           cpu=cpu4 - cpu1)


def report(what: str, *, count: int, seconds: float, cpu: float) -> None:
    print(f"{what}: {count} in {seconds:.2f}s = {count / seconds:,.0f}/s; service CPU {cpu:.2f}s = "
          f"{cpu * 1000 / count:.3f} core-ms each ({cpu / seconds:.2f} cores busy)", flush=True)


async def _at_least(value: Awaitable[int], minimum: int) -> bool:
    return await value >= minimum


async def main(args: argparse.Namespace) -> None:
    admin_url = os.environ.get("DATABASE_URL") or await ensure_local_postgres()
    (ROOT / ".cache").mkdir(exist_ok=True)
    print(f"{args.subscriptions} subscriptions due the same day, batch size {args.batch_size}, "
          f"{os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    async with kafka_bootstrap() as bootstrap, service_process(admin_url, bootstrap,
                                                               batch_size=args.batch_size) as service:
        await bench(service, count=args.subscriptions, timeout=args.timeout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500, help="scheduler batch (subscription-only mode)")
    parser.add_argument("--timeout", type=float, default=600.0)
    e2e = parser.add_argument_group("end to end (bench/renewals_e2e.py)")
    e2e.add_argument("--end-to-end", action="store_true", help="checkout, payment, subscription and the emulator "
                     "as processes; renewal orders generated and authorized at --latency-ms on 1Auth")
    e2e.add_argument("--latency-ms", type=int, default=200)
    e2e.add_argument("--seed", choices=("direct", "checkout"), default="direct",
                     help="members and subscriptions: registered and published directly, or real first orders")
    e2e.add_argument("--concurrency", type=int, default=64, help="first-order checkouts in flight (--seed checkout)")
    e2e.add_argument("--with-notification", action="store_true", help="also run notification and the SMTP sink")
    e2e.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="an environment setting for the processes, e.g. PAYMENT_CONSUMER__CONCURRENCY=256")
    arguments = parser.parse_args()
    if arguments.end_to_end:
        renewals_e2e.main(arguments)
    else:
        asyncio.run(main(arguments))
