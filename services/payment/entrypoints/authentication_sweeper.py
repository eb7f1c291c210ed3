"""The 3-D Secure deadline sweep (design §6.7): a background worker that declines payments whose buyer did not
come back from the gateway by the order's deadline (`authentication_abandoned`), every `interval_s`.

Replica-safe: each pass locks the overdue rows with `FOR UPDATE SKIP LOCKED`, and a return racing the sweep
waits for the row lock, then finds the payment declined (409). Time is `deps.clock`.
"""

from __future__ import annotations

import asyncio

from delivery.cancellation import cancel_and_wait, wait_event
from delivery.logs import get_logger
from services.payment.handlers.authentication import expire_overdue
from services.payment.handlers.deps import Deps

log = get_logger(__name__)


class AuthenticationSweeper:
    def __init__(self, deps: Deps, *, interval_s: float) -> None:
        self._deps = deps
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="payment-authentication-sweeper")

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        self._stopping.set()
        await cancel_and_wait(self._task, timeout=5.0)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                while await expire_overdue(self._deps) > 0 and not self._stopping.is_set():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payment.authentication_sweep_failed")
            await wait_event(self._stopping, self._interval_s)
