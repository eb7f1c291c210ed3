"""Units of work handed in by concurrent tasks, committed together (`delivery.batching.UnitsTogether`), against a
real PostgreSQL: what commits and what does not when one unit fails, when the process dies before the COMMIT,
and that each caller's units commit in its order while batches run side by side."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from delivery.batching import UnitsTogether
from delivery.units import PostgresUnitOfWork, UnitOfWorkFactory
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres]


@dataclass(frozen=True, kw_only=True)
class Source:
    pool: asyncpg.Pool


@pytest.fixture
async def source(pool):
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE IF EXISTS unit_rows")
        await conn.execute("CREATE TABLE unit_rows (id bigserial PRIMARY KEY, key text NOT NULL, seq int NOT NULL, "
                           "xact bigint NOT NULL DEFAULT txid_current())")
    return Source(pool=pool)


class Rows:
    """A unit per (key, seq) that inserts its row, after checking the key's previous row is there."""

    def __init__(self, source: Source) -> None:
        self.uow = UnitOfWorkFactory(source, PostgresUnitOfWork)
        self.out_of_order: list[tuple[str, int]] = []
        self.inserted: list[tuple[str, int]] = []

    def unit(self, key: str, seq: int, *, fails: bool = False, wait: asyncio.Event | None = None) -> Any:
        async def insert() -> int:
            async with self.uow() as uow:
                last = await uow.conn.fetchval("SELECT coalesce(max(seq), -1) FROM unit_rows WHERE key = $1", key)
                if last != seq - 1:
                    self.out_of_order.append((key, seq))
                await uow.conn.execute("INSERT INTO unit_rows (key, seq) VALUES ($1, $2)", key, seq)
                self.inserted.append((key, seq))
                if wait is not None:
                    await wait.wait()
                if fails:
                    raise ValueError(f"{key} cannot be recorded")
            return seq

        return insert


async def rows(source: Source) -> list[tuple[str, int, int]]:
    return [tuple(r) for r in await source.pool.fetch("SELECT key, seq, xact FROM unit_rows ORDER BY id")]


async def test_a_failing_unit_leaves_its_neighbours_committed_and_only_its_caller_sees_the_error(source):
    together, units = UnitsTogether(source), Rows(source)
    results = await asyncio.gather(*(together(units.unit(f"k{n}", 0, fails=n == 2)) for n in range(5)),
                                   return_exceptions=True)
    assert results[:2] == [0, 0] and results[3:] == [0, 0]
    assert isinstance(results[2], ValueError)
    assert sorted(key for key, _, _ in await rows(source)) == ["k0", "k1", "k3", "k4"]


async def test_each_callers_units_commit_in_its_order_while_batches_run_side_by_side(source):
    together, units = UnitsTogether(source, max_units=4, max_in_flight=2), Rows(source)

    async def caller(key: str) -> None:
        for seq in range(5):
            assert await together(units.unit(key, seq)) == seq

    await asyncio.gather(*(caller(f"k{n}") for n in range(8)))
    found = await rows(source)
    assert units.out_of_order == []
    for n in range(8):
        assert [seq for key, seq, _ in found if key == f"k{n}"] == list(range(5))
    assert len({xact for _, _, xact in found}) < len(found) / 2  # committed together, not one by one


async def test_a_crash_before_the_commit_leaves_no_row_of_the_batch(source):
    together, units = UnitsTogether(source), Rows(source)
    hold = asyncio.Event()
    callers = [asyncio.ensure_future(together(units.unit("k0", 0))),
               asyncio.ensure_future(together(units.unit("k1", 0, wait=hold)))]
    await eventually(lambda: _true(len(units.inserted) == 2), message="both inserted, the COMMIT not yet sent")
    await together.abort()  # as a process killed here would: the open transaction never commits
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert await rows(source) == []


async def _true(value: bool) -> bool:
    return value
