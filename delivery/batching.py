"""Batch mode of the key-ordered consumer: the records that are ready, applied in one database transaction.

Design §6.3/§6.4, docs/services.md "Batch mode". Per-key order is the consumer's as always: each key's lane hands
its next record to the `Batcher` only after the previous one finished, so a batch holds at most one record per
key, and a record counts as finished (its offset may be committed) only after the batch committed. One batch runs
at a time per consumer by default (`batch_in_flight` at most, each on its own connection); the records that become
ready meanwhile form the next ones, so batches grow with the load and stay single records when it is quiet (no
waiting to fill a batch).

A batch that fails as a whole (any exception: a poison record, a deadlock, the database gone) has changed nothing
(its transaction is rolled back), and each of its records is then handled alone, with the consumer's usual
retries and dead-lettering: a poison record reaches the DLQ with its own reason and never holds up the others.
A crash at any point is a redelivery: before the COMMIT nothing is kept; after it the inbox absorbs the repeat.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka.structs import ConsumerRecord

from delivery.units import (
    BatchAbandoned,
    CommitOutcomeUnknown,
    PoolSource,
    join_current_batch,
    shared_transaction,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Item = tuple[T, ConsumerRecord]
HandleBatch = Callable[[Sequence[Item[T]]], Awaitable[None]]
"""Applies every item or nothing (raises): a failed batch's records are handled again one by one."""
Accepts = Callable[[T, ConsumerRecord], bool]
Spawn = Callable[[Awaitable[None]], asyncio.Task[None]]
BatchDone = Callable[[int, bool], None]
"""Called after each batch with its size and whether it committed (metrics)."""


def accept_all(message: Any, record: ConsumerRecord) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class Batching(Generic[T]):
    """A consumer's opt-in to batch mode: `accepts` picks the records that may join a batch (a handler that
    calls a gateway, SMTP or another service between units of work must not: it would hold the transaction open),
    the others are handled one by one as without batching. `handle` applies a batch; the service runtime fills it
    in with `one_transaction` over the consumer's own handler when left None."""

    accepts: Accepts[T] = accept_all
    handle: HandleBatch[T] | None = None


def one_transaction(source: PoolSource, handle: Callable[[T, ConsumerRecord], Awaitable[None]]) -> HandleBatch[T]:
    """The per-record `handle`, run for every item in order inside one transaction: every unit of work it opens
    joins it (`delivery.units.shared_transaction`), one COMMIT for the batch."""

    async def handle_batch(items: Sequence[Item[T]]) -> None:
        async with source.pool.acquire() as conn, shared_transaction(conn):
            for message, record in items:
                await handle(message, record)

    return handle_batch


@dataclass(kw_only=True)
class _Waiting(Generic[T]):
    message: T
    record: ConsumerRecord
    done: asyncio.Future[float | None]


class Batcher(Generic[T]):
    """Collects the records the lanes hand in and applies them in batches of at most `max_records`, at most
    `max_in_flight` batches at once (each its own transaction and connection)."""

    def __init__(self, handle: HandleBatch[T], *, accepts: Accepts[T], max_records: int, spawn: Spawn,
                 max_in_flight: int = 1, group_id: str = "", on_batch: BatchDone | None = None):
        self.accepts = accepts
        self._handle = handle
        self._max_records = max_records
        self._max_in_flight = max_in_flight
        self._spawn = spawn
        self._group_id = group_id
        self._on_batch = on_batch
        self._waiting: deque[_Waiting[T]] = deque()
        self._runners: set[asyncio.Task[None]] = set()

    async def submit(self, message: T, record: ConsumerRecord) -> float | None:
        """Wait for the batch that takes this record: its share of the batch's seconds once committed, or None
        when the batch failed (nothing of it was kept: handle the record alone)."""
        done: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(message=message, record=record, done=done))
        if sum(not r.done() for r in self._runners) < self._max_in_flight:  # done: its callback may not have run
            # starts after the lanes already ready in this turn of the loop have handed in theirs too (the first
            # runner takes them all; a runner that finds nothing waiting ends at once)
            runner = self._spawn(self._run())
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        return await done

    async def _run(self) -> None:
        batch: list[_Waiting[T]] = []
        try:
            while self._waiting:
                batch = self._take()
                if batch:
                    await self._apply(batch)
                batch = []
        finally:  # cancelled (shutdown, abort): its lanes are cancelled with it, the waiting ones with the last
            for waiting in batch:
                waiting.done.cancel()
            if not any(r is not asyncio.current_task() and not r.done() for r in self._runners):
                for waiting in self._waiting:
                    waiting.done.cancel()
                self._waiting.clear()

    def _take(self) -> list[_Waiting[T]]:
        batch: list[_Waiting[T]] = []
        while self._waiting and len(batch) < self._max_records:
            waiting = self._waiting.popleft()
            if not waiting.done.done():  # its lane was cancelled meanwhile
                batch.append(waiting)
        return batch

    async def _apply(self, batch: list[_Waiting[T]]) -> None:
        started = time.monotonic()
        try:
            await self._handle([(w.message, w.record) for w in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BatchAbandoned) else type(exc).__name__  # never a record's data
            log.warning("consumer %s: a batch of %d failed (%s); its records are handled one by one",
                        self._group_id, len(batch), reason)
            self._finish(batch, None, committed=False)
            return
        self._finish(batch, (time.monotonic() - started) / len(batch), committed=True)

    def _finish(self, batch: list[_Waiting[T]], share: float | None, *, committed: bool) -> None:
        for waiting in batch:
            if not waiting.done.done():
                waiting.done.set_result(share)
        if self._on_batch is not None:
            self._on_batch(len(batch), committed)


# -- units of work handed in by concurrent tasks -------------------------------------------------------------

R = TypeVar("R")
Unit = Callable[[], Coroutine[Any, Any, R]]
"""A unit of work as a handler writes it (`async with deps.uow() as uow: ...`), wrapped in a no-argument call."""


class Alone:
    """Runs each unit by itself (its own transaction): the default where nothing is batched (handler unit tests)."""

    async def __call__(self, unit: Unit[R]) -> R:
        return await unit()

    async def abort(self) -> None:
        return None


@dataclass(kw_only=True)
class _Unit:
    unit: Unit[Any]
    done: asyncio.Future[tuple[bool, Any]]
    context: contextvars.Context
    """The caller's: its unit runs there (its trace, so the events it stages carry the caller's span)."""


class UnitsTogether(Alone):
    """Units handed in by concurrent tasks (e.g. the results of SMTP conversations finishing at about the same
    time) committed together: one transaction per batch (`shared_transaction`), at most `max_in_flight` batches at
    once (each its own transaction and connection), what arrives meanwhile forms the next. A batch runs its units
    in the order they were handed in; a caller awaits its unit's commit before it hands in its next, so one
    caller's units (one order's, one key's) commit in its order whatever the batches. A caller gets its unit's
    result once the batch committed; when the batch failed as a whole (nothing of it kept), each caller runs its
    unit alone, so its own error reaches only that caller. A COMMIT that got no answer (`CommitOutcomeUnknown`:
    it may have committed) is never run again: its callers get the error."""

    def __init__(self, source: PoolSource, *, max_units: int = 64, max_in_flight: int = 1,
                 name: str = "units") -> None:
        self._source = source
        self._max_units = max_units
        self._max_in_flight = max_in_flight
        self._name = name
        self._waiting: deque[_Unit] = deque()
        self._runners: set[asyncio.Task[None]] = set()

    async def __call__(self, unit: Unit[R]) -> R:
        done: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Unit(unit=unit, done=done, context=contextvars.copy_context()))
        if sum(not r.done() for r in self._runners) < self._max_in_flight:
            runner = asyncio.create_task(self._run(), name=f"together-{self._name}")
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        committed, value = await done
        if committed:
            return value  # type: ignore[no-any-return]
        return await unit()

    async def abort(self) -> None:
        """As a crash would: the running batches are rolled back (never committed), their callers cancelled."""
        runners = list(self._runners)
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        for waiting in self._waiting:
            waiting.done.cancel()
        self._waiting.clear()

    async def _run(self) -> None:
        batch: list[_Unit] = []
        try:
            while self._waiting:
                batch = []
                while self._waiting and len(batch) < self._max_units:
                    waiting = self._waiting.popleft()
                    if not waiting.done.done():  # its caller was cancelled meanwhile
                        batch.append(waiting)
                if batch:
                    await self._apply(batch)
                batch = []
        finally:  # cancelled (abort): its callers with it
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.cancel()

    async def _apply(self, batch: list[_Unit]) -> None:
        try:
            async with self._source.pool.acquire() as conn, shared_transaction(conn):
                values = [await _in_batch(waiting) for waiting in batch]
        except asyncio.CancelledError:
            raise
        except CommitOutcomeUnknown as unknown:
            log.error("%s: a batch of %d units: %s", self._name, len(batch), unknown)
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_exception(unknown)
            return
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BatchAbandoned) else type(exc).__name__
            log.warning("%s: a batch of %d units failed (%s); each runs alone", self._name, len(batch), reason)
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_result((False, None))
            return
        for waiting, value in zip(batch, values, strict=True):
            if not waiting.done.done():
                waiting.done.set_result((True, value))


async def _in_batch(waiting: _Unit) -> Any:
    """The unit in its caller's context, joining the batch running in this one."""
    join_current_batch(waiting.context)
    return await asyncio.create_task(waiting.unit(), context=waiting.context)
