"""A worker loop waiting on its wake-up event stops when cancelled, whatever the loop tick the wake-up lands in
(cpython#86296: on 3.11 `asyncio.wait_for` swallows a cancellation arriving with the inner future's result)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from delivery.cancellation import cancel_all, cancel_and_wait, wait_event

TICK_OFFSETS = range(6)  # the race window is a few loop ticks wide; every offset is tried


async def _worker(wakeup: asyncio.Event, wait) -> None:
    while True:
        wakeup.clear()
        await wait(wakeup)


async def _with_wait_event(wakeup: asyncio.Event) -> None:
    await wait_event(wakeup, 5)


async def _with_wait_for(wakeup: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await getattr(asyncio, "wait_for")(wakeup.wait(), 5)  # noqa: B009 (the banned API, on purpose)


async def _stops_when_woken_and_cancelled_together(wait, ticks: int) -> bool:
    wakeup = asyncio.Event()
    task = asyncio.create_task(_worker(wakeup, wait))
    for _ in range(3):
        await asyncio.sleep(0)
    wakeup.set()
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.5)
    if not done:  # leave nothing running behind the test
        await cancel_and_wait(task, timeout=2)
    return bool(done)


@pytest.mark.parametrize("ticks", TICK_OFFSETS)
async def test_a_loop_waiting_with_wait_event_stops_on_one_cancel_at_any_tick(ticks):
    assert await _stops_when_woken_and_cancelled_together(_with_wait_event, ticks)


async def test_the_race_is_real_with_asyncio_wait_for_on_this_python():
    """Guards the explanation: if a future Python fixes wait_for, this fails and the ban can be reconsidered."""
    results = [await _stops_when_woken_and_cancelled_together(_with_wait_for, ticks) for ticks in TICK_OFFSETS]
    assert not all(results)


async def test_wait_event_reports_set_and_timeout():
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.01) is True


async def test_cancel_and_wait_cancels_again_a_task_that_swallowed_the_first_cancel():
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()  # as a library on wait_for would, by accident
        await asyncio.Event().wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_and_wait(task, timeout=5)
    assert swallowed.is_set() and task.cancelled()


async def test_cancel_all_gives_up_at_its_bound_and_says_which_task(caplog):
    release = asyncio.Event()

    async def refuses() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()

    task = asyncio.create_task(refuses(), name="refusing-task")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="delivery.cancellation"):
        assert await cancel_all([task], timeout=0.2) is False
    assert "refusing-task" in caplog.text
    release.set()
    assert await cancel_and_wait(task, timeout=2)


async def test_cancel_and_wait_does_not_absorb_the_callers_own_cancellation():
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()

    inner = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    caller = asyncio.create_task(cancel_and_wait(inner, timeout=5))
    for _ in range(100):  # a few loop ticks: until the caller has cancelled `inner` and is waiting for it
        if inner.cancelling():
            break
        await asyncio.sleep(0)
    assert inner.cancelling() and not caller.done()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    assert await cancel_and_wait(inner, timeout=2)
