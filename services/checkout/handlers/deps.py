"""What the handlers need, built once by `app.create_app` (the composition root) and passed to every handler,
router and subscriber; tests build it from the fakes in `tests/fakes/checkout.py`."""

from __future__ import annotations

from dataclasses import dataclass

from delivery.sealing import TokenSealer
from services.checkout.ports import (
    Clock,
    IdSource,
    OperatorKeyRegistry,
    OutcomeSignals,
    PaymentDirectory,
    StorefrontKeyRegistry,
    UnitOfWorkFactory,
)


@dataclass(frozen=True, kw_only=True)
class Deps:
    """The ports and policy of the checkout handlers (docs/services.md)."""

    uow: UnitOfWorkFactory
    payment: PaymentDirectory
    clock: Clock
    ids: IdSource
    outcomes: OutcomeSignals
    sealer: TokenSealer
    max_wait_s: float = 30.0
    """Longest wait for a checkout's final outcome (`?wait=`)."""
    authentication_window_s: float = 900.0
    """How long an order waits for the buyer's 3-D Secure before payment declines it as abandoned (design §6.7)."""
    key_registries: tuple[OperatorKeyRegistry, ...] = ()
    """Services besides payment whose operator APIs need the shops' operator key digests (notification,
    subscription)."""
    storefront_key_registries: tuple[StorefrontKeyRegistry, ...] = ()
    """Services whose storefront APIs need the shops' storefront key digests (subscription: the my-page)."""
