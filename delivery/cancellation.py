"""Waiting with a bound and cancelling background tasks without ever losing a cancellation.

On Python 3.11 `asyncio.wait_for` swallows a cancellation that arrives in the same loop tick as its inner
future completes (cpython#86296; 3.12 rewrote `wait_for` on top of `asyncio.timeout`). A worker loop that
waits for its wake-up event with `wait_for` then keeps running after `cancel()`, and whoever awaits the task
hangs: seen as a 300 s CI timeout when the mail dispatcher was woken just as a test stopped it. So our code
uses `asyncio.timeout` (ruff bans `asyncio.wait_for`), and stops tasks with `cancel_and_wait`, which cancels
again until the task ends (a library still on `wait_for` may swallow one cancel), with a bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

_RECANCEL_EVERY_S = 0.5


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """True if `event` is set within `timeout` seconds, False at the bound. A cancellation always propagates."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def cancel_and_wait(task: asyncio.Task[Any] | None, *, timeout: float = 10.0) -> bool:
    """Cancel `task` and wait until it ends, at most `timeout` seconds; True if it ended.

    Waits with `asyncio.wait`, which neither raises the task's CancelledError as ours nor absorbs a
    cancellation of the caller. An exception the task ended with is logged, not raised: the caller is stopping.
    """
    return await cancel_all([task] if task is not None else [], timeout=timeout)


async def cancel_all(tasks: Iterable[asyncio.Task[Any]], *, timeout: float = 10.0) -> bool:
    """`cancel_and_wait` for several tasks at once, under one bound; True if all ended."""
    pending = {task for task in tasks if not task.done()}
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            log.warning("tasks still running %.1fs after their cancellation: %s", timeout,
                        ", ".join(sorted(task.get_name() for task in pending)))
            return False
        for task in pending:
            task.cancel()  # again on each round: one cancellation may have been swallowed
        done, pending = await asyncio.wait(pending, timeout=min(_RECANCEL_EVERY_S, remaining))
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("task %s ended with an error while being stopped", task.get_name(),
                          exc_info=task.exception())
    return True
