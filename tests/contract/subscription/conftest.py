"""The subscription ports, fake and real, behind one interface: every contract test runs against both.

"fake" is `tests/fakes/subscription.py`; "real" is the PostgreSQL adapters on a new, migrated database of this
test (marked `postgres`). The fake runs need no server at all: the database is only made for the real runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from contracts.envelope import Envelope
from delivery.db import create_pool, migrate
from delivery.units import UnitOfWorkFactory
from services.subscription.adapters.postgres.uow import SubscriptionUnitOfWork
from services.subscription.app import MIGRATIONS
from services.subscription.ports import UnitOfWork
from tests.contract.conftest import PoolRuntime, staged_envelopes
from tests.fakes.subscription import SubscriptionFakes


@dataclass(frozen=True, kw_only=True)
class Store:
    """A unit of work factory and what its committed units emitted."""

    uow: Callable[[], AbstractAsyncContextManager[UnitOfWork]]
    emitted: Callable[[], Awaitable[list[Envelope]]]


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
            return await staged_envelopes(pool)

        yield Store(uow=UnitOfWorkFactory(PoolRuntime(pool), SubscriptionUnitOfWork), emitted=outbox)
    finally:
        await pool.close()
