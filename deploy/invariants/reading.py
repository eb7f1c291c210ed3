"""Reads a stack's facts: the four service databases, the emulator's ledger, the SMTP sink, every topic
(records for the secret scan, dead letters, consumer groups' lag) and log files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from contracts.topics import ALL_TOPICS, dlq
from delivery.settings import KafkaSettings
from deploy.invariants.facts import (
    Charge,
    Cycle,
    DeadLetter,
    Facts,
    Mail,
    Order,
    PartitionLag,
    Payment,
)
from deploy.invariants.secrets import SecretScanner

GROUPS = ("checkout", "payment", "subscription", "notification")
READ_TIMEOUT_S = 600.0  # the sink lists ~10 000 stored mails of a long run: 30 s was too short on a loaded machine
JANITOR_METRICS = ("payment_janitor_settled_total", "payment_token_probes")


@dataclass(kw_only=True)
class Sources:
    """Where a stack keeps its state. `databases` maps service name to its database URL."""

    databases: dict[str, str]
    emulator_url: str
    sink_url: str
    kafka: KafkaSettings
    logs: list[Path] = field(default_factory=list)
    known_secrets: list[str] = field(default_factory=list)
    accepted: set[tuple[str, str]] = field(default_factory=set)
    payment_metrics_urls: list[str] = field(default_factory=list)


async def read_facts(sources: Sources) -> Facts:
    facts = Facts(now=datetime.now(UTC), accepted=set(sources.accepted))
    scanner = SecretScanner(sources.known_secrets)
    await _read_checkout(sources.databases["checkout"], facts)
    await _read_payment(sources.databases["payment"], facts)
    await _read_notification(sources.databases["notification"], facts)
    await _read_subscription(sources.databases["subscription"], facts)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=READ_TIMEOUT_S)) as http:
        await _read_gateway_and_sink(http, sources, scanner=scanner, facts=facts)
        for url in sources.payment_metrics_urls:  # the first process that answers
            for name, value in (await _read_janitor_metrics(http, url)).items():
                facts.janitor.setdefault(name, value)  # read from the database: every process shows the same
    await _read_topics(sources.kafka, scanner, facts)
    _scan_logs(sources.logs, scanner, facts)
    return facts


async def _fetch(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def _read_checkout(url: str, facts: Facts) -> None:
    rows = await _fetch(url, "SELECT order_id, shop_id, checkout_id, status, payment_status, payment_number, "
                             "placed_at, updated_at, subscription_id, cycle_no FROM orders")
    facts.orders = [Order(**dict(row)) for row in rows]
    submitted = await _fetch(url, "SELECT shop_id, checkout_id FROM checkout_submissions")
    facts.accepted |= {(row["shop_id"], row["checkout_id"]) for row in submitted}


async def _read_payment(url: str, facts: Facts) -> None:
    rows = await _fetch(url, "SELECT order_id, state, payment_number, updated_at, resolution, "
                             "unknown_operation IS NOT NULL AS unknown_operation, "
                             "previous_hold IS NOT NULL AS two_live_holds, kaiin_id IS NOT NULL AS by_member "
                             "FROM payments")
    facts.payments = [Payment(**dict(row)) for row in rows]
    settled = await _fetch(url, "SELECT order_id FROM gateway_attempts WHERE reason = 'token_unused' "
                                "AND order_id IS NOT NULL")  # domain/token_probe.py: TOKEN_UNUSED
    facts.probe_settled = [row["order_id"] for row in settled]


async def _read_notification(url: str, facts: Facts) -> None:
    rows = await _fetch(url, "SELECT order_id, kind, message_id, status, resend_of IS NOT NULL AS resend FROM mails")
    facts.mail_log = [Mail(**dict(row)) for row in rows]


async def _read_subscription(url: str, facts: Facts) -> None:
    rows = await _fetch(url, "SELECT subscription_id, cycle_no, order_id, status, requested_at FROM cycles")
    facts.cycles = [Cycle(**dict(row)) for row in rows]


async def _read_gateway_and_sink(http: httpx.AsyncClient, sources: Sources, *, scanner: SecretScanner,
                                 facts: Facts) -> None:
    ledger = (await http.get(f"{sources.emulator_url}/_emulator/transactions")).raise_for_status().json()
    facts.charges = [Charge(process_id=t["process_id"], merchant_id=t["merchant_id"], kind=t["kind"],
                            state=t["state"], merchant_free1=t["merchant_free1"], reauth_of=t.get("reauth_of"))
                     for t in ledger]
    messages = (await http.get(f"{sources.sink_url}/messages")).raise_for_status().json()
    facts.sink = [Mail(order_id=m.get("order_id") or "", kind=m.get("kind") or "", message_id=m.get("message_id") or "")
                  for m in messages]
    for message in messages:  # the whole stored message, headers and parts: the mail itself must hold no secret
        raw = (await http.get(f"{sources.sink_url}/messages/{message['key']}/raw")).text
        facts.secrets.extend(scanner.scan(raw, f"mail {message['key']}"))
    facts.scanned["mails"] = len(messages)


async def _read_janitor_metrics(http: httpx.AsyncClient, url: str) -> dict[str, float]:
    found: dict[str, float] = {}
    try:
        text = (await http.get(url)).text
    except httpx.HTTPError:
        return found
    for line in text.splitlines():
        if line.startswith(JANITOR_METRICS):
            name, _, value = line.rpartition(" ")
            found[name] = found.get(name, 0.0) + float(value)
    return found


async def _read_topics(kafka: KafkaSettings, scanner: SecretScanner, facts: Facts) -> None:
    names = [spec.name for spec in ALL_TOPICS]
    physical = [kafka.topic(n) for n in names] + [kafka.topic(dlq(n)) for n in names]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = []
        for topic in physical:
            found = consumer.partitions_for_topic(topic)
            if found is None:
                await consumer._client.force_metadata_update()
                found = consumer.partitions_for_topic(topic) or set()
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        await _drain(consumer, ends, scanner=scanner, facts=facts)
    finally:
        await consumer.stop()
    facts.lags = await _lags(kafka, ends)


async def total_lag(kafka: KafkaSettings) -> int:
    """Records the consumer groups have not committed yet, over every application topic (for a run to settle)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(kafka.topic(spec.name), p) for spec in ALL_TOPICS
                      for p in sorted(consumer.partitions_for_topic(kafka.topic(spec.name)) or ())]
        ends = await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()
    return sum(lag.lag for lag in await _lags(kafka, ends))


async def _drain(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int], *, scanner: SecretScanner,
                 facts: Facts) -> None:
    remaining = {tp for tp, end in ends.items() if end > 0}
    count = 0
    while remaining:
        batch = await consumer.getmany(timeout_ms=1000)
        if not batch:
            positions = {tp: await consumer.position(tp) for tp in remaining}
            remaining = {tp for tp, pos in positions.items() if pos < ends[tp]}
            continue
        for tp, records in batch.items():
            for record in records:
                count += 1
                where = f"{record.topic}[{record.partition}]@{record.offset}"
                text = (record.value or b"").decode("utf-8", "replace")
                facts.secrets.extend(scanner.scan(text, where))
                if record.topic.endswith(".dlq"):
                    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
                    facts.dead_letters.append(DeadLetter(topic=record.topic, reason=headers.get("dlq-reason")))
            if records and records[-1].offset + 1 >= ends[tp]:
                remaining.discard(tp)
    facts.scanned["topic records"] = count


async def _lags(kafka: KafkaSettings, ends: dict[TopicPartition, int]) -> list[PartitionLag]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.servers)
    await admin.start()
    lags = []
    try:
        for group in GROUPS:
            committed = await admin.list_consumer_group_offsets(kafka.group(group))
            for tp, meta in committed.items():
                if tp in ends and meta.offset >= 0:
                    lags.append(PartitionLag(group=group, topic=tp.topic, partition=tp.partition,
                                             lag=max(ends[tp] - meta.offset, 0)))
    finally:
        await admin.close()
    return lags


def _scan_logs(paths: Iterable[Path], scanner: SecretScanner, facts: Facts) -> None:
    lines = 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, 1):
                lines += 1
                facts.secrets.extend(scanner.scan(line, f"{path.name}:{number}"))
    facts.scanned["log lines"] = lines


def read_known_secrets(path: Path | None) -> list[str]:
    """A JSON list of strings (tokens issued, card numbers, passwords) a load driver wrote."""
    return [str(s) for s in json.loads(path.read_text())] if path else []


def run(sources: Sources) -> Facts:
    return asyncio.run(read_facts(sources))
