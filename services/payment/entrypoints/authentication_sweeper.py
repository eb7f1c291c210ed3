"""The 3-D Secure deadline sweep (design §6.7): a background worker that declines payments whose buyer did not
come back from the gateway by the order's deadline (`authentication_abandoned`), every `interval_s`.

Replica-safe: each pass locks the overdue rows with `FOR UPDATE SKIP LOCKED`, and a return racing the sweep
waits for the row lock, then finds the payment declined (409). Time is `deps.clock`. The loop is
`delivery.periodic.PeriodicWorker`.
"""

from __future__ import annotations

from functools import partial

from delivery.periodic import PeriodicWorker
from services.payment.handlers.authentication import expire_overdue
from services.payment.handlers.deps import Deps


class AuthenticationSweeper(PeriodicWorker):
    def __init__(self, deps: Deps, *, interval_s: float) -> None:
        super().__init__("payment.authentication_sweep", partial(expire_overdue, deps), interval_s=interval_s)
