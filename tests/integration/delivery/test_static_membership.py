"""Static group membership (KIP-345) against the real broker: a member gone without leaving (as after kill -9) and
started again under its instance id gets its partitions back at once, without a rebalance and without another
member running them meanwhile; a process whose id was taken over stops consuming (design §6.3: one owner at once)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest

from delivery.consumer import KeyOrderedConsumer
from delivery.dead_letter import broker_raw_publisher
from delivery.settings import ConsumerSettings
from tests.integration.delivery.support import SampleEvent, decode_sample
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SESSION_S = 10.0  # aiokafka's session timeout: a dynamic member's replacement waits this out


class Owners:
    """Which member runs which partition's records, and every moment two ran one partition at once."""

    def __init__(self) -> None:
        self.running: dict[int, set[str]] = defaultdict(set)
        self.overlaps: list[tuple[int, set[str]]] = []
        self.handled: dict[str, list[int]] = defaultdict(list)

    def handler(self, name: str):
        async def handle(event: SampleEvent, record) -> None:
            here = self.running[record.partition]
            here.add(name)
            if len(here) > 1:
                self.overlaps.append((record.partition, set(here)))
            try:
                await asyncio.sleep(0.05)
                self.handled[name].append(event.seq)
            finally:
                here.discard(name)
        return handle


def member(kafka_settings, broker, topic, *, owners: Owners, name: str, instance: str,
           fenced: list[str] | None = None):
    kafka = kafka_settings.model_copy(update={"group_instance_id": instance})
    extra = {} if fenced is None else {"on_fenced": fenced.append}
    return KeyOrderedConsumer(kafka, group_id=f"g-{topic}", topics=[topic], decode=decode_sample,
                              handle=owners.handler(name), dead_letter=broker_raw_publisher(broker),
                              settings=ConsumerSettings(backoff_initial_s=0.01, commit_interval_s=0.1), **extra)


def partitions(consumer: KeyOrderedConsumer) -> set[int]:
    return {tp.partition for tp in consumer._consumer.assignment()}


async def publish(broker, topic, *, first: int, count: int) -> None:
    for seq in range(first, first + count):
        event = SampleEvent(f"key-{seq % 16}", seq)
        await broker.publish(event.to_bytes(), topic, key=event.key.encode())


async def test_a_member_killed_and_restarted_under_its_id_gets_its_partitions_back_within_the_session(
        kafka_settings, broker, new_topic):
    topic = await new_topic(4)
    owners = Owners()
    spurious: list[str] = []  # no member here may be fenced (and the default would exit the test process)
    one = member(kafka_settings, broker, topic, owners=owners, name="one", instance="worker-1", fenced=spurious)
    two = member(kafka_settings, broker, topic, owners=owners, name="two", instance="worker-2", fenced=spurious)
    await one.start()
    await two.start()
    again = None
    try:
        await eventually(lambda: asyncio.sleep(0, len(partitions(one)) == 2 and len(partitions(two)) == 2),
                         timeout=60, message="the two members share the four partitions")
        await publish(broker, topic, first=0, count=40)
        await eventually(lambda: asyncio.sleep(0, sum(map(len, owners.handled.values())) == 40), timeout=60,
                         message="the first 40 records handled")
        ones, twos = partitions(one), partitions(two)

        # kill -9: the member leaves nothing behind, no LeaveGroup (aiokafka sends none for a static member)
        await one.abort()
        killed = time.monotonic()
        await publish(broker, topic, first=40, count=40)
        again = member(kafka_settings, broker, topic, owners=owners, name="again", instance="worker-1",
                       fenced=spurious)
        await again.start()  # returns once the group handed it its partitions
        back_after = time.monotonic() - killed
        assert partitions(again) == ones, "the restarted member got other partitions: the group rebalanced"
        assert back_after < SESSION_S / 2, f"partitions back {back_after:.1f}s after the kill"
        await eventually(lambda: asyncio.sleep(0, sum(map(len, owners.handled.values())) >= 80), timeout=60,
                         message="the 40 records published after the kill handled")
        assert partitions(two) == twos, "the surviving member was handed the dead one's partitions"
        assert owners.overlaps == []
        after_kill = set(owners.handled["again"]) | {s for s in owners.handled["two"] if s >= 40}
        assert set(range(40, 80)) <= after_kill, "a record published after the kill was never handled"
        # at least once: the restarted member may run again what the killed one handled but had not committed yet
        redone = {s for s in owners.handled["again"] if s < 40}
        assert redone <= set(owners.handled["one"]) - set(owners.handled["two"]), redone
        assert spurious == [], "a member that kept its membership was fenced"
    finally:
        for consumer in (again, two):
            if consumer is not None:
                await consumer.stop()


async def test_a_process_whose_instance_id_was_taken_over_stops_consuming_and_the_new_one_keeps_the_membership(
        kafka_settings, broker, new_topic):
    topic = await new_topic(2)
    owners = Owners()
    fenced_old: list[str] = []
    fenced_new: list[str] = []
    old = member(kafka_settings, broker, topic, owners=owners, name="old", instance="worker-1", fenced=fenced_old)
    await old.start()
    new = None
    try:
        await eventually(lambda: asyncio.sleep(0, len(partitions(old)) == 2), timeout=60, message="old assigned")
        # the same id while the old process still runs (a zombie, which the supervisor never makes)
        new = member(kafka_settings, broker, topic, owners=owners, name="new", instance="worker-1", fenced=fenced_new)
        await new.start()
        await eventually(lambda: asyncio.sleep(0, bool(fenced_old)), timeout=SESSION_S * 2,
                         message="the old process learns its id was taken over")
        assert "worker-1" in fenced_old[0] and not old.healthy
        handled_by_old = len(owners.handled["old"])
        await publish(broker, topic, first=0, count=20)
        await eventually(lambda: asyncio.sleep(0, len(owners.handled["new"]) == 20), timeout=60,
                         message="the new process handles what follows")
        assert len(owners.handled["old"]) == handled_by_old and owners.overlaps == []
        assert fenced_new == [] and new.healthy and partitions(new) == {0, 1}
    finally:
        if new is not None:
            await new.stop()
        await old.abort()
