"""What the handlers need, bundled once by `app.create_app` (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from delivery.sealing import TokenSealer
from services.checkout.ports import (
    Clock,
    IdSource,
    OperatorKeyRegistry,
    OutcomeSignals,
    PaymentDirectory,
    UnitOfWorkFactory,
)

CONSUMER = "checkout"
"""Inbox consumer name (and Kafka group id) of this service."""


@dataclass(frozen=True, kw_only=True)
class Deps:
    uow: UnitOfWorkFactory
    payment: PaymentDirectory
    clock: Clock
    ids: IdSource
    outcomes: OutcomeSignals
    sealer: TokenSealer
    max_wait_s: float = 30.0
    key_registries: tuple[OperatorKeyRegistry, ...] = ()
    """Services besides payment whose operator APIs need the shops' operator key digests (notification)."""
