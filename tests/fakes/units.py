"""A fake of `delivery.units`: the unit of work's inbox claim and outbox on in-memory state, with commit and
rollback. A service's fake unit of work subclasses `FakeUnitOfWork` and puts its fake repositories on the state.

Every unit works on a deep copy of the committed state and replaces it on a normal exit; an exception discards
the copy, like a rolled-back transaction.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from contracts.envelope import Envelope
from contracts.events import Event
from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from delivery.idempotency import REASON_CODE, IdempotencyKeyReused, differing, fingerprint
from delivery.units import Causation, causation_id, event_body, key_id


@dataclass(kw_only=True)
class FakeState:
    """Committed state: the inbox (consumer, event id) pairs and the outbox; services add their tables."""

    inbox: set[tuple[str, UUID]] = field(default_factory=set)
    inbox_bodies: dict[tuple[str, UUID], dict[str, str]] = field(default_factory=dict)
    outbox: list[Envelope] = field(default_factory=list)

    def emitted(self, event_type: type[Event] | None = None) -> list[Event]:
        """The events staged so far (of one type, if given), in order."""
        events = [envelope.event() for envelope in self.outbox]
        return [e for e in events if event_type is None or isinstance(e, event_type)]


S = TypeVar("S", bound=FakeState)


class FakeUnitOfWork(Generic[S]):
    SERVICE: ClassVar[str] = ""

    def __init__(self, state: S) -> None:
        self.state = state

    async def claim(self, inbound: Inbound | None) -> bool:
        if inbound is None:
            return True
        try:
            return self._claim((self.SERVICE, inbound.envelope.event_id), event_body(inbound))
        except IdempotencyKeyReused as exc:
            raise PermanentError(f"{REASON_CODE}: {exc}") from None

    async def claim_key(self, scope: str, key: str, body: Any) -> bool:
        return self._claim((f"{self.SERVICE}:{scope}", key_id(key)), fingerprint(body))

    def _claim(self, key: tuple[str, UUID], body: dict[str, str]) -> bool:
        if key in self.state.inbox:
            fields = differing(self.state.inbox_bodies.get(key), body)
            if fields:
                raise IdempotencyKeyReused(f"{key[0]} {key[1]}", fields)
            return False
        self.state.inbox.add(key)
        self.state.inbox_bodies[key] = body
        return True

    async def emit(self, event: Event, *, correlation_id: str, causation: Causation = None,
                   subject_version: int = 0) -> Envelope:
        envelope = Envelope.wrap(event, producer=self.SERVICE, correlation_id=correlation_id,
                                 causation_id=causation_id(causation),
                                 subject_version=subject_version)
        self.state.outbox.append(envelope)
        return envelope


U = TypeVar("U", bound=FakeUnitOfWork, covariant=True)  # type: ignore[type-arg]


class FakeUnitOfWorkFactory(Generic[S, U]):
    """`async with factory() as uow:` on a copy of `state`; committed on a normal exit, dropped on an error."""

    def __init__(self, state: S, build: Callable[[S], U]) -> None:
        self.state = state
        self._build = build
        self.commits = 0
        self.rollbacks = 0
        self.reads = 0

    def __call__(self) -> AbstractAsyncContextManager[U]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[U]:
        working = copy.deepcopy(self.state)
        try:
            yield self._build(working)
        except BaseException:
            self.rollbacks += 1
            raise
        self.state.__dict__.update(working.__dict__)
        self.commits += 1

    def reading(self) -> AbstractAsyncContextManager[U]:
        """Reads without a transaction: on a copy of the state, never committed (a write through it is lost)."""
        return self._read()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[U]:
        self.reads += 1
        yield self._build(copy.deepcopy(self.state))
