"""The janitor's loop (`handlers/janitor.py`): a background worker of the worker role, in `/health`; every
`interval_s` it sweeps until a sweep settles nothing (`delivery.periodic.PeriodicWorker`). What it settled is
recorded with the settlement (`janitor_findings`), which `payment_janitor_settled_total` counts."""

from __future__ import annotations

from datetime import timedelta

from delivery.periodic import PeriodicWorker
from services.payment.handlers.deps import Deps
from services.payment.handlers.janitor import sweep_stuck
from services.payment.settings import JanitorSettings


class JanitorWorker(PeriodicWorker):
    def __init__(self, deps: Deps, settings: JanitorSettings) -> None:
        stuck_after = timedelta(seconds=settings.stuck_after_s)

        async def one_pass() -> int:
            return await sweep_stuck(deps, stuck_after=stuck_after, limit=settings.batch_size)

        super().__init__("payment.janitor", one_pass, interval_s=settings.interval_s)
