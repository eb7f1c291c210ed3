"""The renewal scheduler (design §6.6): a background worker of the service process, in `/health`.

It drains the due subscriptions in batches (`handlers.renewals.generate_due_renewals`: one query per batch,
`FOR UPDATE SKIP LOCKED`, the cycle recorded and `RenewalOrderRequested` staged in the same transaction), then
sleeps until the earliest due time, at most `poll_interval_s`, or until woken: after a change through the API, a
shop's new timing, or the dev clock moving. Any number of replicas may run it at once; no
global lock, each batch takes only rows no other transaction holds. The loop is `delivery.periodic.PeriodicWorker`.
"""

from __future__ import annotations

import asyncio

from delivery.periodic import PeriodicWorker
from services.subscription.handlers import Deps
from services.subscription.handlers.renewals import generate_due_renewals, next_due_at
from services.subscription.settings import SchedulerSettings


class SchedulerWakeup:
    """The `Wakeup` port: an event the scheduler waits on (set from handlers and the dev clock endpoint)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()


class RenewalScheduler(PeriodicWorker):
    """A batch in progress when it stops is cancelled with its transaction rolled back: nothing half-done remains."""

    def __init__(self, deps: Deps, settings: SchedulerSettings, wakeup: SchedulerWakeup) -> None:
        async def one_batch() -> int:
            return await generate_due_renewals(deps, limit=settings.batch_size)

        async def next_due() -> float | None:
            """Seconds until the earliest due time; a due row another replica holds is rechecked after
            `min_pause_s`; the dev clock moving wakes the loop at once."""
            earliest = await next_due_at(deps)
            return None if earliest is None else (earliest - deps.clock.now()).total_seconds()

        super().__init__("scheduler", one_batch, interval_s=settings.poll_interval_s, min_pause_s=settings.min_pause_s,
                         next_due=next_due, wake=wakeup.event, stop_timeout_s=settings.stop_timeout_s)

    async def run_once(self) -> int:
        """Generate everything due now, batch after batch, until a batch finds nothing (a subscription several
        cycles behind gets one cycle per batch); returns how many subscriptions were due."""
        return await self.sweep()
