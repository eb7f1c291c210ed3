"""The renewal retry worker (R22 opt-in): a background worker of the service process, reported in `/health`.

It runs the due retries (`handlers.retries.run_due_retries`: claims with `FOR UPDATE SKIP LOCKED`, so any number
of replicas may run it at once, with no global lock), pass after pass while passes find work, then sleeps until
the earliest due retry, at least `min_pause_s` and at most `poll_interval_s`. Time is `deps.clock`, so tests move
it instead of waiting. Stopping lets a pass in flight finish (its gateway calls are answered and recorded) for up
to `stop_timeout_s`, then cancels it: an attempt cut off after sending is settled as unknown later (design §6.2).
"""

from __future__ import annotations

import asyncio

from delivery.cancellation import cancel_and_wait, wait_event
from delivery.logs import get_logger
from services.payment.handlers.deps import Deps
from services.payment.handlers.retries import next_retry_due, run_due_retries
from services.payment.settings import RetrySettings

log = get_logger(__name__)


class RetryWorker:
    def __init__(self, deps: Deps, settings: RetrySettings) -> None:
        self._deps = deps
        self._settings = settings
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="payment-retry-worker")

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=self._settings.stop_timeout_s)
        await cancel_and_wait(self._task, timeout=self._settings.stop_timeout_s)

    async def run_once(self) -> int:
        """Run everything due now, pass after pass, until a pass claims nothing; returns how many ran."""
        total = 0
        while not self._stopping.is_set() and (
                claimed := await run_due_retries(self._deps, limit=self._settings.batch_size)) > 0:
            total += claimed
        return total

    async def _loop(self) -> None:
        backoff = self._settings.min_pause_s
        while not self._stopping.is_set():
            try:
                await self.run_once()
                pause = await self._pause()
                backoff = self._settings.min_pause_s
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payment.retry_pass_failed", retry_in_s=backoff)
                pause, backoff = backoff, min(backoff * 2, self._settings.poll_interval_s)
            await wait_event(self._stopping, pause)

    async def _pause(self) -> float:
        earliest = await next_retry_due(self._deps)
        if earliest is None:
            return self._settings.poll_interval_s
        until = (earliest - self._deps.clock.now()).total_seconds()
        return min(max(until, self._settings.min_pause_s), self._settings.poll_interval_s)
