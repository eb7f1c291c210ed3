"""`OutcomeSignals` with the unit of work's `announce_outcome`: a committed announcement wakes the waits on that
checkout; another checkout's, or one from a unit that failed, wakes nobody.

Announcements arrive in commit order, so once a later one has woken its wait, an earlier one that should not
wake anybody has had its chance: the negative checks need no timed wait."""

from __future__ import annotations

import asyncio

import pytest

WAKE_BOUND_S = 10.0


async def announce(store, checkout_id: str, *, fail: bool = False) -> None:
    try:
        async with store.uow() as uow:
            await uow.announce_outcome("tea-shop", checkout_id)
            if fail:
                raise RuntimeError("the unit fails after announcing")
    except RuntimeError:
        assert fail


async def test_a_committed_announcement_wakes_the_waits_on_its_checkout(store):
    async with store.signals.watch("tea-shop", "chk-1") as first, store.signals.watch("tea-shop", "chk-1") as second:
        await announce(store, "chk-1")
        assert await first.wait(WAKE_BOUND_S) and await second.wait(WAKE_BOUND_S)


async def test_another_checkouts_or_a_failed_units_announcement_wakes_nobody(store):
    async with (store.signals.watch("tea-shop", "chk-1") as mine, store.signals.watch("tea-shop", "chk-2") as other,
                store.signals.watch("other-shop", "chk-3") as elsewhere):
        await announce(store, "chk-1", fail=True)
        await announce(store, "chk-3")  # the same checkout id in tea-shop, not in other-shop
        await announce(store, "chk-2")
        assert await other.wait(WAKE_BOUND_S)
        assert not await mine.wait(0) and not await elsewhere.wait(0)


async def test_a_cleared_watch_waits_for_the_next_announcement(store):
    async with store.signals.watch("tea-shop", "chk-1") as watch:
        await announce(store, "chk-1")
        assert await watch.wait(WAKE_BOUND_S)
        watch.clear()
        waiting = asyncio.create_task(watch.wait(WAKE_BOUND_S))
        await announce(store, "chk-1")
        async with asyncio.timeout(WAKE_BOUND_S):
            assert await waiting


@pytest.mark.parametrize("timeout", [0.0, 0.05])
async def test_a_wait_without_announcement_ends_false_at_its_timeout(store, timeout):
    async with store.signals.watch("tea-shop", "chk-1") as watch:
        assert not await watch.wait(timeout)
