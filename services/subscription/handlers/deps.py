"""What the handlers need, built once by `app.create_app` (the composition root) and passed to every handler,
router, subscriber and the scheduler; unit tests build it from the fakes in `tests/fakes/subscription.py`."""

from __future__ import annotations

from dataclasses import dataclass

from services.subscription.ports import Clock, UnitOfWorkFactory, Wakeup


@dataclass(frozen=True, kw_only=True)
class Deps:
    """The ports of the subscription handlers (docs/services.md)."""

    uow: UnitOfWorkFactory
    clock: Clock
    """The injectable clock: `SystemClock` in production, the dev clock locally and in tests (design §6.6)."""
    scheduler: Wakeup
    """Woken after a change that may make a subscription due sooner."""
