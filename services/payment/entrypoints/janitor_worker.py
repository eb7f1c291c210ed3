"""The janitor's loop (`handlers/janitor.py`): a background worker of the worker role, in `/health`; every
`interval_s` it sweeps until a sweep settles nothing. What it settled is recorded with the settlement
(`janitor_findings`), which `payment_janitor_settled_total` counts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from delivery.cancellation import cancel_and_wait, wait_event
from delivery.logs import get_logger
from services.payment.handlers.deps import Deps
from services.payment.handlers.janitor import sweep_stuck
from services.payment.settings import JanitorSettings

log = get_logger(__name__)


class JanitorWorker:
    def __init__(self, deps: Deps, settings: JanitorSettings) -> None:
        self._deps, self._settings = deps, settings
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="payment-janitor")

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        self._stopping.set()
        await cancel_and_wait(self._task, timeout=5.0)

    async def sweep(self) -> int:
        """Sweeps until one settles nothing; how many payments were settled."""
        total = 0
        stuck_after = timedelta(seconds=self._settings.stuck_after_s)
        while not self._stopping.is_set() and (
                settled := await sweep_stuck(self._deps, stuck_after=stuck_after, limit=self._settings.batch_size)):
            total += settled
        return total

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payment.janitor_sweep_failed")
            await wait_event(self._stopping, self._settings.interval_s)
