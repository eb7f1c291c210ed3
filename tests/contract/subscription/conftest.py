"""The subscription ports, fake and real, behind one interface: every contract test runs against both.

"fake" is `tests/fakes/subscription.py`; "real" is the PostgreSQL adapters on a new, migrated database of this
test (marked `postgres`). The fake runs need no server at all: the database is only made for the real runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from contracts.envelope import Envelope
from delivery.db import create_pool, migrate
from delivery.units import UnitOfWorkFactory
from services.subscription.adapters.postgres.uow import SubscriptionUnitOfWork
from services.subscription.app import MIGRATIONS
from services.subscription.ports import UnitOfWork
from tests.fakes.subscription import SubscriptionFakes

FAKE_OR_REAL = ["fake", pytest.param("real", marks=pytest.mark.postgres)]


@dataclass(frozen=True, kw_only=True)
class Store:
    """A unit of work factory and what its committed units emitted."""

    uow: Callable[[], AbstractAsyncContextManager[UnitOfWork]]
    emitted: Callable[[], Awaitable[list[Envelope]]]


@dataclass(frozen=True)
class _Runtime:
    pool: asyncpg.Pool


@pytest.fixture(params=FAKE_OR_REAL)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_database(kind: str, request: pytest.FixtureRequest) -> Callable[[], Awaitable[str]] | None:
    """The session's reused `subscription` database (tests/conftest.py, emptied per test) for the real runs only."""
    if kind != "real":
        return None
    reused = request.getfixturevalue("reused_database")
    return lambda: reused("subscription")


@pytest.fixture
async def store(make_database: Any) -> AsyncIterator[Store]:
    if make_database is None:
        fakes = SubscriptionFakes()

        async def staged() -> list[Envelope]:
            return list(fakes.state.outbox)

        yield Store(uow=fakes.uow, emitted=staged)
        return
    pool = await create_pool(await make_database(), min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)

        async def outbox() -> list[Envelope]:
            rows = await pool.fetch("SELECT payload FROM outbox ORDER BY id")
            return [Envelope.from_bytes(row["payload"]) for row in rows]

        yield Store(uow=UnitOfWorkFactory(_Runtime(pool), SubscriptionUnitOfWork), emitted=outbox)
    finally:
        await pool.close()
