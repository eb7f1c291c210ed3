"""The renewal scheduler (design §6.6): a background worker of the service process, in `/health`.

It drains the due subscriptions in batches (`handlers.renewals.generate_due_renewals`: one query per batch,
`FOR UPDATE SKIP LOCKED`, the cycle recorded and `RenewalOrderRequested` staged in the same transaction), then
sleeps until the earliest due time, at most `poll_interval_s`, or until woken: after a change through the API, a
shop's new timing, or the dev clock moving. Any number of replicas may run it at once; no
global lock, each batch takes only rows no other transaction holds.
"""

from __future__ import annotations

import asyncio

from delivery.cancellation import cancel_and_wait, wait_event
from delivery.logs import get_logger
from services.subscription.handlers import Deps
from services.subscription.handlers.renewals import generate_due_renewals, next_due_at
from services.subscription.settings import SchedulerSettings

log = get_logger(__name__)


class SchedulerWakeup:
    """The `Wakeup` port: an event the scheduler waits on (set from handlers and the dev clock endpoint)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()


class RenewalScheduler:
    def __init__(self, deps: Deps, settings: SchedulerSettings, wakeup: SchedulerWakeup) -> None:
        self._deps = deps
        self._settings = settings
        self._wakeup = wakeup
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="renewal-scheduler")

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """A batch in progress is cancelled with its transaction rolled back: nothing half-done remains."""
        await cancel_and_wait(self._task, timeout=self._settings.stop_timeout_s)

    async def run_once(self) -> int:
        """Generate everything due now, batch after batch, until a batch finds nothing (a subscription several
        cycles behind gets one cycle per batch); returns how many subscriptions were due."""
        total = 0
        while (done := await generate_due_renewals(self._deps, limit=self._settings.batch_size)) > 0:
            total += done
        return total

    async def _loop(self) -> None:
        backoff = self._settings.min_pause_s
        while True:
            self._wakeup.event.clear()  # before the pass: a wake-up during it makes the next one run at once
            try:
                await self.run_once()
                pause = await self._pause()
                backoff = self._settings.min_pause_s
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler.pass_failed", retry_in_s=backoff)
                pause, backoff = backoff, min(backoff * 2, self._settings.poll_interval_s)
            await wait_event(self._wakeup.event, pause)

    async def _pause(self) -> float:
        """Seconds until the earliest due time, within [min_pause_s, poll_interval_s]. A due row another replica
        holds is rechecked after `min_pause_s`; the dev clock moving wakes the loop at once."""
        earliest = await next_due_at(self._deps)
        if earliest is None:
            return self._settings.poll_interval_s
        until = (earliest - self._deps.clock.now()).total_seconds()
        return min(max(until, self._settings.min_pause_s), self._settings.poll_interval_s)
