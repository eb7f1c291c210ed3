"""A service's periodic background worker (renewal scheduler, retry worker, janitor, 3-D Secure deadline sweep): the
loop around one pass, written once.

A pass does a batch of work and says how much it found. The worker sweeps (pass after pass while passes find work),
then pauses: `interval_s`, or, with `next_due`, until the earliest due time within [`min_pause_s`, `interval_s`].
A failed pass is logged (`<name>.pass_failed`) and the next one waits a backoff doubling from `min_pause_s` up to
`interval_s`. `wake` (an event others set, e.g. after an API change) ends a pause at once; it is cleared before each
sweep, so a wake-up during a sweep makes the next one run at once. `stop()` lets a pass in flight finish for up to
`drain_s` (0: cancelled at once, its transaction rolled back), then cancels it (bounded by `stop_timeout_s`). In
`/health` through `healthy`. Replica safety is the passes' business (`FOR UPDATE SKIP LOCKED` or claim leases).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from delivery.cancellation import cancel_and_wait, wait_event
from delivery.logs import get_logger

log = get_logger(__name__)
Pass = Callable[[], Awaitable[int]]
NextDue = Callable[[], Awaitable[float | None]]
"""Seconds until the earliest due work (may be negative or 0: due now), None when nothing is scheduled."""


class PeriodicWorker:
    def __init__(self, name: str, run_pass: Pass, *, interval_s: float, min_pause_s: float | None = None,
                 next_due: NextDue | None = None, wake: asyncio.Event | None = None, drain_s: float = 0.0,
                 stop_timeout_s: float = 5.0) -> None:
        self.name = name
        self._run_pass = run_pass
        self._interval_s = interval_s
        self._min_pause_s = interval_s if min_pause_s is None else min_pause_s
        self._next_due = next_due
        self._wake = wake or asyncio.Event()
        self._drain_s = drain_s
        self._stop_timeout_s = stop_timeout_s
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name=self.name)

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()  # out of its pause at once
        if self._task is not None and self._drain_s > 0:
            await asyncio.wait({self._task}, timeout=self._drain_s)
        await cancel_and_wait(self._task, timeout=self._stop_timeout_s)

    async def sweep(self) -> int:
        """Pass after pass until one finds nothing (or the worker is stopping); how much work they found."""
        total = 0
        while not self._stopping.is_set() and (found := await self._run_pass()) > 0:
            total += found
        return total

    async def _loop(self) -> None:
        backoff = self._min_pause_s
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.sweep()
                pause = await self._pause()
                backoff = self._min_pause_s
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(f"{self.name}.pass_failed", retry_in_s=backoff)
                pause, backoff = backoff, min(backoff * 2, self._interval_s)
            if self._stopping.is_set():
                return
            await wait_event(self._wake, pause)

    async def _pause(self) -> float:
        if self._next_due is None:
            return self._interval_s
        until = await self._next_due()
        if until is None:
            return self._interval_s
        return min(max(until, self._min_pause_s), self._interval_s)
