"""The one unit of work every service builds on: one pooled connection, one transaction, the inbox claim and the
outbox on it (design §6.3). The only place a transaction opens (style rule 8).

A service subclasses `PostgresUnitOfWork` to put its repositories on the same connection, and builds a
`UnitOfWorkFactory` in `app.py`; handlers use it as

    async with deps.uow() as uow:
        if not await uow.claim(inbound):      # a redelivered event: apply nothing, acknowledge
            return
        order = await uow.orders.get(...)      # load
        events = decide(order, ...)            # decide (pure domain)
        await uow.orders.save(...)             # save
        await uow.emit(translate.x(...), correlation_id=..., causation=inbound)   # emit (outbox)

Everything commits on normal exit and rolls back on an exception. Fakes of this API for handler unit tests
live in `tests/fakes/units.py`, and `tests/contract/` runs the same checks against both.

Batches (`delivery.batching`, docs/services.md "Batch mode"): inside `shared_transaction(conn)` every unit of
work joins that one transaction instead of opening its own, so a consumer applies many records with one commit;
the events they emit are staged in the outbox in one statement just before that commit (in emit order), and so
are their NOTIFYs (`notify`).
A unit of work left by an exception marks the whole batch abandoned (nothing of it commits, even if the handler
caught the exception), so a batch keeps exactly the effects the same handlers would have had one by one.
`after_commit(callback)` runs the callback once the effects are committed: at once outside a batch, after the
batch's COMMIT inside one (e.g. waking a worker that reads the rows just written).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import Context, ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg

from contracts.envelope import Envelope
from contracts.events import Event
from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from delivery.idempotency import REASON_CODE, Fingerprint, IdempotencyKeyReused, body_sha256, fingerprint
from delivery.inbox import claim_event
from delivery.outbox import StagedRow, add_many_to_outbox, add_to_outbox, staged_row

log = logging.getLogger(__name__)
Apply = Callable[[asyncpg.Connection], Awaitable[None]]
Causation = Inbound | UUID | None
"""What caused an emitted event: the inbound event being applied, or the id of an earlier event this service
stored (e.g. notification's mail outcomes, caused by the `OrderCompleted` recorded when it arrived)."""


class InboxOutbox(Protocol):
    """The delivery half of every service's unit of work (its port lists the repositories beside it)."""

    async def claim(self, inbound: Inbound | None) -> bool: ...

    async def claim_key(self, scope: str, key: str, body: Any) -> bool:
        """An HTTP idempotency key (issue 14): True the first time; False for a repeat with the same body;
        `IdempotencyKeyReused` naming the differing fields for a repeat with another body."""

    async def emit(self, event: Event, *, correlation_id: str, causation: Causation = None,
                   subject_version: int = 0) -> Envelope: ...


class PostgresUnitOfWork:
    """Base of every service's unit of work: subclasses set `SERVICE` and add repositories in `__init__`."""

    SERVICE: ClassVar[str] = ""
    """Producer name in envelopes and inbox consumer name (also the service's Kafka group id)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def claim(self, inbound: Inbound | None) -> bool:
        """Inbox: True the first time this service applies `inbound`; None (an HTTP call) always claims. A seen
        event id with another body is a `PermanentError` (dead-lettered with the reason, issue 14)."""
        if inbound is None:
            return True
        try:
            return await claim_event(self.conn, consumer=self.SERVICE, event_id=inbound.envelope.event_id,
                                     body=event_body(inbound))
        except IdempotencyKeyReused as exc:
            raise PermanentError(f"{REASON_CODE}: {exc}") from None

    async def claim_key(self, scope: str, key: str, body: Any) -> bool:
        """An HTTP idempotency key, claimed in the inbox as consumer `<service>:<scope>` (see `InboxOutbox`)."""
        return await claim_event(self.conn, consumer=f"{self.SERVICE}:{scope}", event_id=key_id(key),
                                 body=fingerprint(body))

    async def emit(self, event: Event, *, correlation_id: str, causation: Causation = None,
                   subject_version: int = 0) -> Envelope:
        """Stage `event` in the outbox of this transaction, keyed and routed as its contract says."""
        return await emit(self.conn, event, producer=self.SERVICE, correlation_id=correlation_id,
                          causation=causation, subject_version=subject_version)


U = TypeVar("U", bound=PostgresUnitOfWork, covariant=True)


class PoolSource(Protocol):
    """Anything that has a pool once started (the `ServiceRuntime`); read per unit, never at build time. The pool
    readers outside the unit of work (operator keys, metrics watchers) take it too and read `pool` per call."""

    @property
    def pool(self) -> asyncpg.Pool: ...


class UnitOfWorkFactory(Generic[U]):
    """`async with factory() as uow:` one connection and one transaction; commit on exit, roll back on error."""

    def __init__(self, source: PoolSource, build: Callable[[asyncpg.Connection], U]) -> None:
        self._source = source
        self._build = build

    def __call__(self) -> AbstractAsyncContextManager[U]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[U]:  # type: ignore[misc]
        batch = _BATCH.get()
        if batch is not None:  # join the batch's transaction; the batch commits (or abandons) it
            try:
                yield self._build(batch.conn)
            except BaseException as exc:
                batch.abandoned = batch.abandoned or exc
                raise
            return
        async with self._source.pool.acquire() as conn, conn.transaction():
            yield self._build(conn)

    def reading(self) -> AbstractAsyncContextManager[U]:
        """`async with factory.reading() as uow:` reads on one pooled connection without a transaction: each
        statement sees what was committed when it ran. For a read of one statement (or of several that need no
        common snapshot) BEGIN and COMMIT are two round trips for nothing. Only for reads: nothing written
        through it rolls back. Inside a batch it joins the batch's transaction, as `__call__` does."""
        return self._read()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[U]:  # type: ignore[misc]
        batch = _BATCH.get()
        if batch is not None:
            yield self._build(batch.conn)
            return
        async with self._source.pool.acquire() as conn:
            yield self._build(conn)


@dataclass(kw_only=True)
class _Batch:
    conn: asyncpg.Connection
    abandoned: BaseException | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    outbox: list[StagedRow] = field(default_factory=list)
    notifications: list[tuple[str, str]] = field(default_factory=list)


_BATCH: ContextVar[_Batch | None] = ContextVar("delivery_units_batch", default=None)


class BatchAbandoned(Exception):
    """A batch's transaction was not committed: a unit of work in it failed, or the transaction had failed."""


class CommitOutcomeUnknown(Exception):
    """The batch's COMMIT failed without its answer (the connection broke): it may have committed or not. Its
    units must not run again as if nothing had happened; their callers get this error (a consumer redelivers, and
    the inbox or the handler's own guard finds what was kept)."""


@asynccontextmanager
async def shared_transaction(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """One transaction on `conn` that every unit of work opened inside the block joins; COMMIT at the end unless
    a unit of work was left by an exception (`BatchAbandoned`, nothing kept); rolled back on any exception."""
    batch = _Batch(conn=conn)
    token = _BATCH.set(batch)
    try:
        await conn.execute("BEGIN")
        yield
        if batch.abandoned is not None:
            raise BatchAbandoned(f"a unit of work failed: {type(batch.abandoned).__name__}") from batch.abandoned
        if batch.outbox:
            await add_many_to_outbox(conn, batch.outbox)
        if batch.notifications:
            await conn.execute(_NOTIFY_MANY, *map(list, zip(*batch.notifications, strict=True)))
        # A failed transaction (a handler swallowed a database error) answers COMMIT with ROLLBACK: never lose that.
        if (tag := await _commit(conn)) != "COMMIT":
            raise BatchAbandoned(f"the transaction had failed (COMMIT answered {tag})")
    except BaseException:
        await _roll_back(conn)
        raise
    finally:
        _BATCH.reset(token)
    for callback in batch.after_commit:
        callback()


async def _commit(conn: asyncpg.Connection) -> str:
    try:
        return await conn.execute("COMMIT")  # type: ignore[no-any-return]
    except Exception as exc:  # whatever broke, the server may have committed (a deferred error did not: rare)
        raise CommitOutcomeUnknown(f"COMMIT sent, no answer: {type(exc).__name__}") from exc


async def _roll_back(conn: asyncpg.Connection) -> None:
    """Best effort (also when cancelled): a connection that cannot roll back is reset or closed by its release."""
    if not conn.is_in_transaction():
        return
    try:
        async with asyncio.timeout(5):
            await conn.execute("ROLLBACK")
    except Exception:
        log.warning("batch rollback failed; the connection's release resets it", exc_info=True)


_NOTIFY_MANY = "SELECT pg_notify(channel, payload) FROM unnest($1::text[], $2::text[]) AS n(channel, payload)"


async def notify(conn: asyncpg.Connection, channel: str, payload: str) -> None:
    """NOTIFY `channel` with `payload` at commit (PostgreSQL delivers nothing of a transaction that rolls back):
    one statement now outside a batch; inside one, staged and sent with the batch's others in one statement just
    before its COMMIT (none if it is abandoned)."""
    batch = _BATCH.get()
    if batch is not None and batch.conn is conn:
        batch.notifications.append((channel, payload))
    else:
        await conn.execute("SELECT pg_notify($1, $2)", channel, payload)


def join_current_batch(context: Context) -> None:
    """Make the units of work run in `context` (a caller's copy) join the batch running here."""
    context.run(_BATCH.set, _BATCH.get())


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current effects are committed: now outside a batch (a unit of work's block has
    committed by the time a handler calls this after it), after the batch's COMMIT inside one."""
    batch = _BATCH.get()
    if batch is None:
        callback()
    else:
        batch.after_commit.append(callback)


async def apply_once(pool: asyncpg.Pool, *, consumer: str, inbound: Inbound, apply: Apply) -> bool:
    """Run `apply` in one transaction with the inbox claim; a redelivered event applies nothing (False).
    For plumbing tests and tools; services use their `UnitOfWorkFactory`."""
    async with pool.acquire() as conn, conn.transaction():
        if not await claim_event(conn, consumer=consumer, event_id=inbound.envelope.event_id):
            return False
        await apply(conn)
        return True


async def emit(conn: asyncpg.Connection, event: Event, *, producer: str, correlation_id: str,
               causation: Causation = None, subject_version: int = 0) -> Envelope:
    """Stage `event` in the outbox of the current transaction, keyed and routed as its contract says."""
    envelope = Envelope.wrap(event, producer=producer, correlation_id=correlation_id,
                             causation_id=causation_id(causation), subject_version=subject_version)
    batch = _BATCH.get()
    if batch is not None and batch.conn is conn:  # a batch stages its events in one statement before its COMMIT
        batch.outbox.append(staged_row(topic=event.TOPIC, key=event.kafka_key(), envelope=envelope))
    else:
        await add_to_outbox(conn, topic=event.TOPIC, key=event.kafka_key(), envelope=envelope)
    return envelope


def event_body(inbound: Inbound) -> Fingerprint:
    """What the inbox remembers of an event: one hash of its whole `data` (a redelivery carries the same)."""
    return {"data": body_sha256(inbound.envelope.data)}


def key_id(key: str) -> UUID:
    """The inbox id of an idempotency key (any text, already scoped by its caller)."""
    return uuid5(NAMESPACE_URL, f"idempotency-key:{key}")


def causation_id(causation: Causation) -> str | None:
    """The envelope's `causation_id` for `causation`."""
    if isinstance(causation, Inbound):
        return str(causation.envelope.event_id)
    return str(causation) if causation is not None else None
