"""A broker restart keeps its data (issue 17): after a crash (SIGKILL) and a start on the same directory, the
topics, their records and a group's committed offsets are all still there, at the same address."""

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from deploy.local.kafka import LocalKafka, build_libs

pytestmark = pytest.mark.kafka


async def write_and_commit(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("kept", num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for n in range(10):
            await producer.send_and_wait("kept", f"record {n}".encode(), partition=n % 2)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="keeper", enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition("kept", 0)])
        await consumer.commit({TopicPartition("kept", 0): OffsetAndMetadata(3, "")})
    finally:
        await consumer.stop()


async def read_back(bootstrap: str) -> tuple[list[bytes], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="keeper", enable_auto_commit=False)
    await consumer.start()
    try:
        committed = await consumer.committed(TopicPartition("kept", 0))
        partitions = [TopicPartition("kept", p) for p in (0, 1)]
        reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await reader.start()
        try:
            reader.assign(partitions)
            await reader.seek_to_beginning(*partitions)
            values: list[bytes] = []
            deadline = time.monotonic() + 60  # a broker just restarted on a busy machine is slow to lead again
            while len(values) < 10 and time.monotonic() < deadline:
                batch = await reader.getmany(timeout_ms=500)
                values += [r.value for records in batch.values() for r in records]
        finally:
            await reader.stop()
    finally:
        await consumer.stop()
    return sorted(values), committed


@pytest.mark.timeout(600)  # two broker starts, each bounded at 240 s
def test_a_crashed_broker_restarts_with_its_topics_records_and_committed_offsets(tmp_path):
    build_libs()
    broker = LocalKafka(tmp_path)
    bootstrap = broker.start(timeout=240)  # a JVM's start took minutes at load 25-45 (operations.md)
    try:
        asyncio.run(write_and_commit(bootstrap))
        assert broker.restart(timeout=240, hard=True) == bootstrap
        values, committed = asyncio.run(read_back(bootstrap))
    finally:
        broker.stop()
    assert values == sorted(f"record {n}".encode() for n in range(10))
    assert committed == 3
