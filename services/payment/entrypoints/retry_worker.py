"""The renewal retry worker (R22 opt-in): a background worker of the service process, reported in `/health`.

It runs the due retries (`handlers.retries.run_due_retries`: claims with `FOR UPDATE SKIP LOCKED`, so any number
of replicas may run it at once, with no global lock), pass after pass while passes find work, then sleeps until
the earliest due retry, at least `min_pause_s` and at most `poll_interval_s`. Time is `deps.clock`, so tests move
it instead of waiting. Stopping lets a pass in flight finish (its gateway calls are answered and recorded) for up
to `stop_timeout_s`, then cancels it: an attempt cut off after sending is settled as unknown later (design §6.2).
The loop is `delivery.periodic.PeriodicWorker`.
"""

from __future__ import annotations

from delivery.periodic import PeriodicWorker
from services.payment.handlers.deps import Deps
from services.payment.handlers.retries import next_retry_due, run_due_retries
from services.payment.settings import RetrySettings


class RetryWorker(PeriodicWorker):
    def __init__(self, deps: Deps, settings: RetrySettings) -> None:
        async def one_pass() -> int:
            return await run_due_retries(deps, limit=settings.batch_size)

        async def next_due() -> float | None:
            earliest = await next_retry_due(deps)
            return None if earliest is None else (earliest - deps.clock.now()).total_seconds()

        super().__init__("payment.retry", one_pass, interval_s=settings.poll_interval_s,
                         min_pause_s=settings.min_pause_s, next_due=next_due, drain_s=settings.stop_timeout_s,
                         stop_timeout_s=settings.stop_timeout_s)

    async def run_once(self) -> int:
        """Run everything due now, pass after pass, until a pass claims nothing; returns how many ran."""
        return await self.sweep()
