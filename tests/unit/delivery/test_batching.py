"""Batch mode of the key-ordered consumer, without Kafka or PostgreSQL: which records form a batch, per-key order,
the commit point while a batch runs, a failed batch handled record by record (poison to the DLQ), and the shared
transaction the units of work join (one COMMIT, abandoned as a whole when one of them fails)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition

from delivery import units
from delivery.batching import Batcher, Batching, UnitsTogether
from delivery.consumer import KeyOrderedConsumer
from delivery.errors import PermanentError
from delivery.offsets import PartitionOffsets
from delivery.settings import ConsumerSettings, KafkaSettings
from delivery.units import (
    BatchAbandoned,
    CommitOutcomeUnknown,
    PostgresUnitOfWork,
    UnitOfWorkFactory,
    after_commit,
    notify,
    shared_transaction,
)
from tests.waiting import eventually

TP = TopicPartition("t", 0)


def record(offset: int, key: str, value: str = "ok") -> ConsumerRecord:
    return ConsumerRecord(topic="t", partition=0, offset=offset, timestamp=0, timestamp_type=0, key=key.encode(),
                          value=value.encode(), checksum=None, serialized_key_size=1, serialized_value_size=1,
                          headers=[])


class FakeKafka:
    """What the consumer asks its aiokafka consumer between fetches: the assignment."""

    def assignment(self) -> set[TopicPartition]:
        return {TP}


class Harness:
    """A `KeyOrderedConsumer` in batch mode fed by hand: the batch handler and the one-by-one handler record what
    they applied; a record whose value is `poison` fails wherever it runs."""

    def __init__(self, *, max_records: int = 128, max_attempts: int = 2, in_flight: int = 1) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.alone: list[tuple[str, int]] = []
        self.applied: dict[str, list[int]] = defaultdict(list)
        self.dead: list[tuple[int, str]] = []
        self.gate: asyncio.Event | None = None
        self.consumer: KeyOrderedConsumer[ConsumerRecord] = KeyOrderedConsumer(
            KafkaSettings(bootstrap_servers="127.0.0.1:1"), group_id="g", topics=["t"], decode=lambda r: r,
            handle=self._handle, dead_letter=self._dead_letter,
            settings=ConsumerSettings(batch_max_records=max_records, max_attempts=max_attempts,
                                      batch_in_flight=in_flight, backoff_initial_s=0.001),
            batching=Batching(handle=self._handle_batch))
        self.consumer._consumer = FakeKafka()  # type: ignore[assignment]
        self.offsets = self.consumer._offsets[TP] = PartitionOffsets()

    async def _handle_batch(self, items: Any) -> None:
        self.batches.append([(r.key.decode(), r.offset) for _, r in items])
        if self.gate is not None:
            await self.gate.wait()
        if any(r.value == b"poison" for _, r in items):
            raise PermanentError("poison in the batch")  # nothing of the batch is kept
        for _, r in items:
            self.applied[r.key.decode()].append(r.offset)

    async def _handle(self, message: ConsumerRecord, r: ConsumerRecord) -> None:
        self.alone.append((r.key.decode(), r.offset))
        if r.value == b"poison":
            raise PermanentError("bad record")
        self.applied[r.key.decode()].append(r.offset)

    async def _dead_letter(self, topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        self.dead.append((int(headers["dlq-original-offset"]), headers["dlq-reason"]))

    def feed(self, *records: ConsumerRecord) -> None:
        for r in records:
            self.consumer._dispatch(TP, r)

    async def drained(self) -> None:
        async with asyncio.timeout(5):
            await self.consumer._drained()


async def test_the_ready_records_form_one_batch_with_at_most_one_record_per_key_in_offset_order():
    h = Harness()
    h.feed(record(0, "a"), record(1, "b"), record(2, "a"), record(3, "c"), record(4, "a"))
    await h.drained()
    assert h.batches == [[("a", 0), ("b", 1), ("c", 3)], [("a", 2)], [("a", 4)]]
    assert h.applied == {"a": [0, 2, 4], "b": [1], "c": [3]}
    assert h.alone == []
    assert h.offsets.committable() == 5


async def test_a_batch_is_at_most_max_records_and_the_rest_forms_the_next():
    h = Harness(max_records=2)
    h.feed(*(record(i, f"k{i}") for i in range(5)))
    await h.drained()
    assert [len(b) for b in h.batches] == [2, 2, 1]
    assert sorted(o for b in h.batches for _, o in b) == [0, 1, 2, 3, 4]


async def test_one_batch_runs_at_a_time_and_what_arrives_meanwhile_forms_the_next():
    h = Harness()
    h.gate = asyncio.Event()
    h.feed(record(0, "a"))
    await eventually(lambda: _true(h.batches), message="first batch started")
    h.feed(record(1, "b"), record(2, "c"))
    await asyncio.sleep(0)  # the lanes of b and c hand in their records (no batch may start beside the first)
    assert h.batches == [[("a", 0)]]
    h.gate.set()
    await h.drained()
    assert h.batches == [[("a", 0)], [("b", 1), ("c", 2)]]


async def test_with_two_in_flight_a_second_batch_starts_beside_a_running_one_and_a_third_waits():
    h = Harness(in_flight=2)
    h.gate = asyncio.Event()
    h.feed(record(0, "a"))
    await eventually(lambda: _true(len(h.batches) == 1), message="first batch started")
    h.feed(record(1, "b"))
    await eventually(lambda: _true(len(h.batches) == 2), message="second batch started beside the first")
    h.feed(record(2, "c"), record(3, "d"))
    await asyncio.sleep(0)
    assert h.batches == [[("a", 0)], [("b", 1)]]
    h.gate.set()
    await h.drained()
    assert h.batches[2:] == [[("c", 2), ("d", 3)]]
    assert h.offsets.committable() == 4


async def test_nothing_of_a_running_batch_is_committable_until_it_committed():
    h = Harness()
    h.gate = asyncio.Event()
    h.feed(record(0, "a"), record(1, "b"), record(2, "c"))
    await eventually(lambda: _true(h.batches), message="batch started")
    assert h.offsets.committable() == 0
    assert h.offsets.needs_commit() == 0  # the lowest unfinished record: a crash now replays the whole batch
    h.gate.set()
    await h.drained()
    assert h.offsets.committable() == 3


async def test_a_failed_batch_is_handled_record_by_record_and_the_poison_goes_to_the_dlq_alone():
    h = Harness()
    h.feed(record(0, "a"), record(1, "b", "poison"), record(2, "c"), record(3, "b"))
    await h.drained()
    assert h.batches[0] == [("a", 0), ("b", 1), ("c", 2)]
    assert sorted(h.alone) == [("a", 0), ("b", 1), ("c", 2)]  # each alone once; the poison once (permanent)
    assert h.dead == [(1, "permanent error: bad record")]
    assert h.applied == {"a": [0], "c": [2], "b": [3]}  # b's next record ran after the poison left its lane
    assert h.batches[-1] == [("b", 3)]
    assert h.offsets.committable() == 4
    assert _sample(h, "kafka_batches_total", group="g", outcome="failed") == 1
    assert _sample(h, "kafka_records_total", group="g", topic="t", outcome="dead_lettered") == 1
    assert _sample(h, "kafka_records_total", group="g", topic="t", outcome="handled") == 3


async def test_records_the_batching_does_not_accept_are_handled_alone():
    h = Harness()
    h.consumer._batcher.accepts = lambda message, r: r.key != b"x"  # type: ignore[union-attr]
    h.feed(record(0, "a"), record(1, "x"), record(2, "b"))
    await h.drained()
    assert h.batches == [[("a", 0), ("b", 2)]]
    assert h.alone == [("x", 1)]


async def test_an_aborted_consumer_cancels_a_running_batch_and_commits_nothing_of_it():
    h = Harness()
    h.gate = asyncio.Event()
    h.feed(record(0, "a"), record(1, "b"))
    await eventually(lambda: _true(h.batches), message="batch started")
    tasks = list(h.consumer._tasks)  # what abort() cancels (no broker to leave here)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert h.applied == {}
    assert h.offsets.committable() == 0


async def test_batch_size_one_turns_batching_off():
    h = Harness(max_records=1)
    h.feed(record(0, "a"), record(1, "b"))
    await h.drained()
    assert h.batches == []
    assert h.alone == [("a", 0), ("b", 1)]


async def test_a_lane_cancelled_while_waiting_leaves_the_batch_to_the_others():
    ran: list[list[int]] = []

    async def handle(items: Any) -> None:
        ran.append([r for r, _ in items])

    tasks: list[asyncio.Task[Any]] = []
    batcher: Batcher[int] = Batcher(handle, accepts=lambda *_: True, max_records=10,
                                    spawn=lambda c: tasks.append(asyncio.ensure_future(c)) or tasks[-1])
    first = asyncio.ensure_future(batcher.submit(1, None))  # type: ignore[arg-type]
    second = asyncio.ensure_future(batcher.submit(2, None))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    first.cancel()
    assert await second is not None
    assert ran == [[2]]


# -- the shared transaction the units of work join ---------------------------------------------------------

class FakeConnection:
    """Records the statements; COMMIT answers `commit_tag` (PostgreSQL says ROLLBACK for a failed transaction)."""

    def __init__(self, commit_tag: str = "COMMIT") -> None:
        self.statements: list[str] = []
        self.arguments: list[tuple[Any, ...]] = []
        self.commit_tag = commit_tag
        self.open = False

    def is_in_transaction(self) -> bool:
        return self.open

    async def execute(self, query: str, *args: Any) -> str:
        self.statements.append(query)
        self.arguments.append(args)
        self.open = query == "BEGIN" or (self.open and query not in ("COMMIT", "ROLLBACK"))
        return self.commit_tag if query == "COMMIT" else "OK"

    def transaction(self) -> Any:
        raise AssertionError("a unit of work inside a batch must not open its own transaction")


class NoPool:
    @property
    def pool(self) -> Any:
        raise AssertionError("a unit of work inside a batch must not take a connection of its own")


async def test_units_of_work_inside_a_batch_share_its_one_transaction_and_wake_after_the_commit():
    conn = FakeConnection()
    uow = UnitOfWorkFactory(NoPool(), PostgresUnitOfWork)
    woken: list[list[str]] = []
    async with shared_transaction(conn):  # type: ignore[arg-type]
        for n in range(3):
            async with uow() as unit:
                await unit.conn.execute(f"INSERT {n}")
            after_commit(lambda: woken.append(list(conn.statements)))
        assert woken == []
    assert conn.statements == ["BEGIN", "INSERT 0", "INSERT 1", "INSERT 2", "COMMIT"]
    assert woken == [conn.statements] * 3


async def test_a_batchs_notifications_go_in_one_statement_before_its_commit_and_not_at_all_if_abandoned():
    conn = FakeConnection()
    uow = UnitOfWorkFactory(NoPool(), PostgresUnitOfWork)
    async with shared_transaction(conn):  # type: ignore[arg-type]
        for n in range(3):
            async with uow() as unit:
                await notify(unit.conn, "ch", f"p{n}")
        assert conn.statements == ["BEGIN"]
    assert conn.statements == ["BEGIN", units._NOTIFY_MANY, "COMMIT"]
    assert conn.arguments[1] == (["ch", "ch", "ch"], ["p0", "p1", "p2"])

    abandoned = FakeConnection()
    with pytest.raises(BatchAbandoned):
        async with shared_transaction(abandoned):  # type: ignore[arg-type]
            async with uow() as unit:
                await notify(unit.conn, "ch", "p0")
            with contextlib.suppress(LookupError):
                async with uow():
                    raise LookupError("the second record fails")
    assert abandoned.statements == ["BEGIN", "ROLLBACK"]


async def test_a_read_inside_a_batch_joins_its_transaction_and_outside_takes_a_connection_without_one():
    conn = FakeConnection()
    reading = UnitOfWorkFactory(NoPool(), PostgresUnitOfWork).reading()
    async with shared_transaction(conn), reading as unit:  # type: ignore[arg-type]
        await unit.conn.execute("SELECT 1")
    assert conn.statements == ["BEGIN", "SELECT 1", "COMMIT"]

    alone = FakeConnection()
    async with UnitOfWorkFactory(OnePool(alone), PostgresUnitOfWork).reading() as unit:
        await unit.conn.execute("SELECT 2")
    assert alone.statements == ["SELECT 2"]  # no BEGIN, no COMMIT (`transaction()` would have failed)


class OnePool:
    """A pool of one connection."""

    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    @property
    def pool(self) -> Any:
        return self

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConnection]:
        yield self._conn


async def test_a_unit_of_work_that_failed_abandons_the_batch_even_when_its_handler_caught_the_error():
    conn = FakeConnection()
    uow = UnitOfWorkFactory(NoPool(), PostgresUnitOfWork)
    woken: list[bool] = []
    with pytest.raises(BatchAbandoned, match="ValueError"):
        async with shared_transaction(conn):  # type: ignore[arg-type]
            try:
                async with uow() as unit:
                    await unit.conn.execute("INSERT 1")
                    raise ValueError("one record's handler failed after writing")
            except ValueError:
                pass  # alone, its transaction would have rolled back: the batch must not keep the INSERT
            after_commit(lambda: woken.append(True))
    assert conn.statements == ["BEGIN", "INSERT 1", "ROLLBACK"]
    assert woken == []


async def test_a_transaction_that_failed_unnoticed_is_not_taken_for_committed():
    conn = FakeConnection(commit_tag="ROLLBACK")
    with pytest.raises(BatchAbandoned, match="ROLLBACK"):
        async with shared_transaction(conn):  # type: ignore[arg-type]
            await conn.execute("INSERT 1")


async def test_after_commit_outside_a_batch_runs_at_once():
    woken: list[bool] = []
    after_commit(lambda: woken.append(True))
    assert woken == [True]


async def _true(value: Any) -> bool:
    return bool(value)


def _sample(h: Harness, name: str, **labels: str) -> float:
    return h.consumer._metrics.registry.get_sample_value(name, labels) or 0.0


# -- units handed in by concurrent tasks (notification's send results) ----------------------------------------

class LoggingConnection(FakeConnection):
    """A pooled connection writing to a shared log; its own transactions (a unit run alone) are logged too."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.statements = log

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:  # type: ignore[override]
        self.statements.append("BEGIN")
        try:
            yield
        except BaseException:
            self.statements.append("ROLLBACK")
            raise
        self.statements.append("COMMIT")


class LoggingPool:
    def __init__(self) -> None:
        self.log: list[str] = []

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[LoggingConnection]:
        yield LoggingConnection(self.log)


@dataclass(frozen=True, kw_only=True)
class Source:
    pool: LoggingPool


def write(uow: UnitOfWorkFactory[PostgresUnitOfWork], name: str, *, fails: bool = False) -> Any:
    async def unit() -> str:
        async with uow() as unit_of_work:
            await unit_of_work.conn.execute(f"UPDATE {name}")
            if fails:
                raise ValueError(f"{name} cannot be recorded")
        return name

    return unit


async def test_units_finishing_together_commit_in_one_transaction_and_each_caller_gets_its_result():
    source = Source(pool=LoggingPool())
    uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
    together = UnitsTogether(source)  # type: ignore[arg-type]
    results = await asyncio.gather(*(together(write(uow, f"mail-{n}")) for n in range(3)))
    assert results == ["mail-0", "mail-1", "mail-2"]
    assert source.pool.log == ["BEGIN", "UPDATE mail-0", "UPDATE mail-1", "UPDATE mail-2", "COMMIT"]


async def test_a_unit_that_fails_makes_each_run_alone_and_only_its_caller_sees_the_error():
    source = Source(pool=LoggingPool())
    uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
    together = UnitsTogether(source)  # type: ignore[arg-type]
    results = await asyncio.gather(together(write(uow, "a")), together(write(uow, "bad", fails=True)),
                                   together(write(uow, "c")), return_exceptions=True)
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], ValueError)
    batch, alone = source.pool.log[:4], source.pool.log[4:]
    assert batch == ["BEGIN", "UPDATE a", "UPDATE bad", "ROLLBACK"]
    assert alone == ["BEGIN", "UPDATE a", "COMMIT", "BEGIN", "UPDATE bad", "ROLLBACK", "BEGIN", "UPDATE c", "COMMIT"]


def held(uow: UnitOfWorkFactory[PostgresUnitOfWork], name: str, release: asyncio.Event) -> Any:
    async def unit() -> str:
        async with uow() as unit_of_work:
            await unit_of_work.conn.execute(f"UPDATE {name}")
            await release.wait()
        return name

    return unit


async def test_aborting_rolls_back_the_running_batch_and_cancels_its_callers_and_the_waiting_ones():
    source = Source(pool=LoggingPool())
    uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
    together = UnitsTogether(source)  # type: ignore[arg-type]
    callers = [asyncio.ensure_future(together(write(uow, "a"))),
               asyncio.ensure_future(together(held(uow, "stuck", asyncio.Event())))]
    await eventually(lambda: _true("UPDATE stuck" in source.pool.log), message="batch running")
    callers.append(asyncio.ensure_future(together(write(uow, "next"))))
    await eventually(lambda: _true(together._waiting), message="handed in, waiting for the next batch")
    await together.abort()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert "COMMIT" not in source.pool.log and source.pool.log[-1] == "ROLLBACK"
    assert "UPDATE next" not in source.pool.log


CALLER: ContextVar[str] = ContextVar("caller", default="none")


async def test_each_unit_runs_in_its_callers_context_so_its_events_carry_the_callers_trace():
    source = Source(pool=LoggingPool())
    uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
    together = UnitsTogether(source)  # type: ignore[arg-type]

    async def caller(name: str) -> str:
        CALLER.set(name)

        async def unit() -> str:
            async with uow() as unit_of_work:
                await unit_of_work.conn.execute(f"UPDATE {CALLER.get()}")
            return CALLER.get()

        return await together(unit)

    assert await asyncio.gather(caller("first"), caller("second")) == ["first", "second"]
    assert source.pool.log == ["BEGIN", "UPDATE first", "UPDATE second", "COMMIT"]


class CommitWithoutAnswer(LoggingConnection):
    """The connection breaks while the COMMIT is on its way: the server may have committed or not."""

    async def execute(self, query: str, *args: Any) -> str:
        if query == "COMMIT":
            self.statements.append("COMMIT (no answer)")
            raise ConnectionResetError("connection lost")
        return await super().execute(query, *args)


class CommitWithoutAnswerPool(LoggingPool):
    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[LoggingConnection]:
        yield CommitWithoutAnswer(self.log)


async def test_a_batch_whose_commit_got_no_answer_is_not_run_again_and_its_callers_get_the_error():
    source = Source(pool=CommitWithoutAnswerPool())
    uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
    together = UnitsTogether(source)  # type: ignore[arg-type]
    results = await asyncio.gather(together(write(uow, "a")), together(write(uow, "b")), return_exceptions=True)
    assert all(isinstance(r, CommitOutcomeUnknown) for r in results)
    assert source.pool.log == ["BEGIN", "UPDATE a", "UPDATE b", "COMMIT (no answer)", "ROLLBACK"]


async def test_batches_in_flight_at_once_a_slow_one_holds_up_no_other():
    source = Source(pool=LoggingPool())
    uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
    together = UnitsTogether(source, max_in_flight=2)  # type: ignore[arg-type]
    slow = asyncio.Event()
    first = asyncio.ensure_future(together(held(uow, "slow", slow)))
    await eventually(lambda: _true("UPDATE slow" in source.pool.log), message="the slow batch running")
    assert await asyncio.gather(together(write(uow, "a")), together(write(uow, "b"))) == ["a", "b"]
    assert not first.done()
    slow.set()
    assert await first == "slow"
    assert source.pool.log == ["BEGIN", "UPDATE slow", "BEGIN", "UPDATE a", "UPDATE b", "COMMIT", "COMMIT"]
