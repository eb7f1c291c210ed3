"""`python -m tools.watch_payments` on a real Kafka: its own consumer group reads what payment published on
`payments.events` and prints the summary line (docs/operations.md, monitoring consumer)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from contracts.envelope import Envelope
from contracts.topics import PAYMENTS_EVENTS
from tests.unit.contracts import samples

pytestmark = [pytest.mark.kafka]
ROOT = Path(__file__).resolve().parents[3]


async def test_the_watcher_summarises_what_payment_published(isolated_kafka):
    events = [samples.payment_authorized().model_copy(update={"order_id": f"o{n}"}) for n in range(5)]
    events += [samples.payment_declined().model_copy(update={"order_id": "d1"}),
               samples.payment_outcome_unknown().model_copy(update={"order_id": "u1"}),
               samples.payment_captured().model_copy(update={"order_id": "o1"})]
    producer = AIOKafkaProducer(bootstrap_servers=isolated_kafka.servers)
    await producer.start()
    try:
        for event in events:
            envelope = Envelope.wrap(event, producer="payment", correlation_id="c")
            await producer.send_and_wait(isolated_kafka.topic(PAYMENTS_EVENTS), envelope.to_bytes(),
                                         key=event.order_id.encode(), headers=envelope.headers())
    finally:
        await producer.stop()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": isolated_kafka.bootstrap_servers,
           "KAFKA_TOPIC_PREFIX": isolated_kafka.topic_prefix}
    watcher = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tools.watch_payments", "--from-beginning", "--interval", "0.2",
        "--max-records", str(len(events)), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(60):
        out, err = await watcher.communicate()
    assert watcher.returncode == 0, err.decode()[-2000:]
    last = out.decode().strip().splitlines()[-1]
    assert "authorized 5 | declined 1 (by code kind: G 1)" in last, last
    assert "unknown 1 (still open 1) | other events 1 | unreadable 0" in last, last
