"""Benchmark of the notification service: mails per second into the local SMTP sink, and the duplicate window.

1. Transport: `SmtpTransport.send` alone, N mails at concurrency C, against the sink running as its own
   process (`python -m deploy.local.smtp_sink`, so it has the other core): the ceiling of one SMTP client.
2. Service: the whole path on real Kafka + PostgreSQL: ShopSettingsChanged + M OrderCompleted published,
   the service started, time until all 2*M mails are `sent` (consume, record, claim, render, SMTP, mark,
   outbox), with what each mail cost (CPU of this process and of the service's PostgreSQL backends, commits; CPU
   times, so a busy machine skews them less than the rates) and how many mails each claim brought back. Also
   measures the duplicate window of every mail: from the moment the server's 250 reply was
   read to the commit of `sent` (a crash inside it means one duplicate with the same Message-ID).

    .venv/bin/python bench/notification_bench.py [--mails 1000] [--orders 300] [--concurrency 8]

Kafka: `KAFKA_BOOTSTRAP_SERVERS`, else a throw-away local broker (deploy/local/kafka.py); PostgreSQL:
`DATABASE_URL`, else the local cluster (deploy/local/postgres.sh). Bounded by counts and `--timeout`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra import ensure_local_postgres, kafka_bootstrap  # noqa: E402 - bench/ is on sys.path
from system_cost import cpu_seconds  # noqa: E402

from contracts.envelope import Envelope  # noqa: E402 - after the path set-up, so the script runs from anywhere
from contracts.topics import topics_to_create  # noqa: E402
from delivery.kafka import ensure_topics  # noqa: E402
from delivery.settings import KafkaSettings  # noqa: E402
from services.notification.adapters.smtp import SmtpTransport  # noqa: E402
from services.notification.app import create_app, notification_runtime  # noqa: E402
from services.notification.domain.model import MailContent  # noqa: E402
from services.notification.handlers import sending  # noqa: E402
from services.notification.ports import OutgoingMail, SendResult  # noqa: E402
from services.notification.settings import DispatchSettings, NotificationSettings, SmtpSettings  # noqa: E402
from tests.unit.contracts import samples  # noqa: E402


@asynccontextmanager
async def sink_process(smtp_port: int, http_port: int) -> AsyncIterator[str]:
    """The sink as its own process; yields its HTTP URL once it answers."""
    maildir = Path(tempfile.mkdtemp(prefix="sink-bench-")) / "Maildir"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "deploy.local.smtp_sink", "--smtp-port", str(smtp_port), "--http-port",
        str(http_port), "--maildir", str(maildir), cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http_port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for _ in range(200):
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        async with asyncio.timeout(10):
            await process.wait()


def sample_mail(n: int) -> OutgoingMail:
    order = samples.order_completed()
    text = f"{order.buyer.name} 様\n" + "ご注文ありがとうございます。\n" * 40
    content = MailContent(sender_address="shop@example.jp", sender_name="デモ茶舗", recipient="taro@example.jp",
                          subject=f"【デモ茶舗】ご注文 {n}", text=text, html=f"<p>{text}</p>")
    return OutgoingMail(content=content, message_id=f"<bench-{n}@escott-payments.invalid>", date=datetime.now(UTC),
                        headers={})


async def bench_transport(port: int, mails: int, concurrency: int) -> float:
    transport = SmtpTransport(SmtpSettings(port=port, local_hostname="bench"))
    slots = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(n: int) -> None:
        nonlocal failures
        async with slots:
            failures += (await transport.send(sample_mail(n))).status != "accepted"

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(mails)))
    rate = mails / (time.perf_counter() - started)
    print(f"transport: {mails} mails, concurrency {concurrency}: {rate:,.0f} mails/s ({failures} failed)")
    return rate


class TimedTransport:
    """The real client, noting when each server acceptance was read (start of the duplicate window)."""

    def __init__(self, real: SmtpTransport, accepted: dict[str, float]):
        self._real, self._accepted = real, accepted

    async def send(self, mail: OutgoingMail) -> SendResult:
        result = await self._real.send(mail)
        if result.status == "accepted":
            self._accepted[mail.message_id] = time.perf_counter()
        return result


def time_log_commits(committed: dict[str, float]) -> None:
    """Instrument unit 2 (the `sent` mark): the end of the duplicate window is its commit."""
    original = sending.record_result

    async def timed(deps, step, *, expected_attempts):  # type: ignore[no-untyped-def]
        await original(deps, step, expected_attempts=expected_attempts)
        committed[step.mail.message_id] = time.perf_counter()

    sending.record_result = timed  # deliver_mail looks it up in its module at each call


def count_claims(claims: list[int]) -> None:
    """Instrument unit 1 (the claim): how many mails each claim of the dispatcher brought back."""
    original = sending.claim_due_mails

    async def counted(deps, **kwargs):  # type: ignore[no-untyped-def]
        claimed = await original(deps, **kwargs)
        claims.append(len(claimed))
        return claimed

    sending.claim_due_mails = counted  # the dispatcher looks it up in the module at each call


async def publish(kafka: KafkaSettings, orders: int) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        events = [samples.shop_settings_changed()] + [
            samples.order_completed().model_copy(update={"order_id": f"bench-{n:05}"}) for n in range(orders)]
        futures = []
        for event in events:
            env = Envelope.wrap(event, producer="bench", correlation_id=event.kafka_key())
            futures.append(await producer.send(kafka.topic(event.TOPIC), env.to_bytes(),
                                               key=event.kafka_key().encode(), headers=env.headers()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def fresh_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


class Probe:
    """The bench's own connection to the run's database: its queries (each a commit) are not counted."""

    def __init__(self, conn: asyncpg.Connection, database: str):
        self.conn, self.database, self.queries = conn, database, 0

    async def fetchval(self, query: str, *args: object) -> Any:
        self.queries += 1
        return await self.conn.fetchval(query, *args)

    async def commits(self) -> int:
        """The database's committed transactions so far, less this probe's own."""
        await self.fetchval("SELECT pg_stat_clear_snapshot()")
        total = await self.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", self.database)
        return int(total) - self.queries

    async def backend_cpu_s(self) -> float:
        """CPU so far of the service's PostgreSQL backends (every connection to the database but this one)."""
        rows = await self.conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> "
                                     "pg_backend_pid()", self.database)
        self.queries += 1
        return sum(cpu_seconds(r["pid"]) or 0.0 for r in rows)


async def bench_service(bootstrap: str, admin_url: str, *, smtp_port: int, orders: int, concurrency: int,
                        timeout: float) -> None:
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
    await ensure_topics(kafka, topics_to_create())
    await publish(kafka, orders)
    database_url = await fresh_database(admin_url)
    settings = NotificationSettings(database_url=database_url, kafka=kafka, log_level="WARNING",
                                    smtp=SmtpSettings(port=smtp_port, local_hostname="bench"),
                                    dispatch=DispatchSettings(concurrency=concurrency, poll_interval_s=0.1))
    accepted: dict[str, float] = {}
    committed: dict[str, float] = {}
    time_log_commits(committed)
    claims: list[int] = []
    count_claims(claims)
    runtime = notification_runtime(settings)
    app = create_app(settings, transport=TimedTransport(SmtpTransport(settings.smtp), accepted), runtime=runtime)
    probe = Probe(await asyncpg.connect(database_url), database_url.rsplit("/", 1)[1])
    commits_started = await probe.commits()
    started, cpu_started = time.perf_counter(), time.process_time()
    async with app.router.lifespan_context(app):
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if await probe.fetchval("SELECT count(*) FROM mails WHERE status = 'sent'") >= 2 * orders:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        sent = await probe.fetchval("SELECT count(*) FROM mails WHERE status = 'sent'")
        span = await probe.fetchval("SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM mails")
        cpu = time.process_time() - cpu_started
        await asyncio.sleep(1.0)  # backends flush their transaction counts when idle (at most once a second)
        committed_count = await probe.commits() - commits_started
        postgres_cpu = await probe.backend_cpu_s()
    await probe.conn.close()
    per_mail = 1000 / max(sent, 1)
    per_claim = sum(claims) / max(len(claims), 1)
    print(f"cost per mail: this process (consumer, dispatcher, relay; the bench's polling) {cpu * per_mail:.2f} "
          f"core-ms, its PostgreSQL backends {postgres_cpu * per_mail:.2f} core-ms, "
          f"{committed_count / max(sent, 1):.2f} commits; {len(claims)} claims ({per_claim:.1f} mails each); "
          f"machine load {os.getloadavg()[0]:.1f}")
    windows = sorted((committed[m] - accepted[m]) * 1000 for m in accepted if m in committed)
    print(f"service: {orders} orders -> {sent} mails sent in {elapsed:.2f}s (start-up included): "
          f"{sent / elapsed:,.0f} mails/s, dispatcher concurrency {concurrency}; first to last mail "
          f"{float(span or 0):.2f}s: {sent / max(float(span or 0), 1e-3):,.0f} mails/s")
    if windows:
        q = statistics.quantiles(windows, n=100)
        print(f"duplicate window (250 read -> `sent` committed), {len(windows)} mails: p50 {q[49]:.2f} ms, "
              f"p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms, max {windows[-1]:.2f} ms")


async def main(args: argparse.Namespace) -> None:
    async with sink_process(args.smtp_port, args.http_port):
        for concurrency in (1, args.concurrency, 4 * args.concurrency) if args.mails else ():
            await bench_transport(args.smtp_port, args.mails, concurrency)
        if args.orders:
            admin_url = os.environ.get("DATABASE_URL") or await ensure_local_postgres()
            async with kafka_bootstrap() as bootstrap:
                await bench_service(bootstrap, admin_url, smtp_port=args.smtp_port, orders=args.orders,
                                    concurrency=args.concurrency, timeout=args.timeout)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # leader elections of the fresh topics are expected
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=1000, help="mails per transport run (0: skip)")
    parser.add_argument("--orders", type=int, default=300, help="orders through the service (0: skip)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--smtp-port", type=int, default=18025)
    parser.add_argument("--http-port", type=int, default=18026)
    asyncio.run(main(parser.parse_args()))
