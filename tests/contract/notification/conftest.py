"""The notification ports, fake and real, behind one interface per suite: each test runs against both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest

from contracts.envelope import Envelope
from delivery.db import create_pool, migrate
from delivery.units import UnitOfWorkFactory
from services.notification.adapters.postgres.uow import NotificationUnitOfWork
from services.notification.app import MIGRATIONS
from services.notification.ports import NotificationUnitOfWork as UnitOfWork
from tests.contract.conftest import PoolRuntime, staged_envelopes
from tests.fakes.notification import NotificationFakes


@dataclass(frozen=True)
class Store:
    """A unit of work factory and a way to read what its units emitted (committed only)."""

    uow: Callable[[], AbstractAsyncContextManager[UnitOfWork]]
    emitted: Callable[[], Awaitable[list[Envelope]]]


@pytest.fixture(params=["fake", "real"])
async def store(request, reused_database) -> AsyncIterator[Store]:
    """The fake unit of work on in-memory state, or the real one on PostgreSQL (a new, migrated database)."""
    if request.param == "fake":
        fakes = NotificationFakes()

        async def staged() -> list[Envelope]:
            return list(fakes.state.outbox)

        yield Store(fakes.uow, staged)
        return
    pool = await create_pool(await reused_database("notification"), min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)

        async def outbox() -> list[Envelope]:
            return await staged_envelopes(pool)

        yield Store(UnitOfWorkFactory(PoolRuntime(pool), NotificationUnitOfWork), outbox)
    finally:
        await pool.close()
