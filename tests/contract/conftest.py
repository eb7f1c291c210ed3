"""What every contract suite shares: each test runs once on the fake and once on the real adapter ("real" needs
PostgreSQL, marked so), and the real runs use the session's reused database of their service (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest

from contracts.envelope import Envelope

FAKE_OR_REAL = ["fake", pytest.param("real", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class PoolRuntime:
    """The one thing `delivery.units.UnitOfWorkFactory` reads of a service runtime: its pool."""

    pool: asyncpg.Pool


async def staged_envelopes(pool: asyncpg.Pool) -> list[Envelope]:
    """What the committed units staged in the outbox, in order."""
    rows = await pool.fetch("SELECT payload FROM outbox ORDER BY id")
    return [Envelope.from_bytes(row["payload"]) for row in rows]


@pytest.fixture(params=FAKE_OR_REAL)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_database(kind: str, request: pytest.FixtureRequest) -> Callable[[], Awaitable[str]] | None:
    """For the real runs: the session's reused database of the suite's service (tests.contract.<service>...),
    emptied for this test. None for the fake runs."""
    if kind != "real":
        return None
    service = request.module.__name__.split(".")[2]
    reused = request.getfixturevalue("reused_database")
    return lambda: reused(service)
