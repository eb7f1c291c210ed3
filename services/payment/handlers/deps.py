"""What the handlers need, bundled once by `app.create_app` (the composition root): ports and policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from delivery.batching import Alone
from delivery.sealing import TokenSealer
from services.payment.ports import CardGateway, Clock, IdSource, ThreeDSecureForms, UnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class Policy:
    """How hard and how long the handlers try (settings `PAYMENT_GATEWAY__*`, `PAYMENT_OPERATIONS__*`,
    `PAYMENT_RETRIES__*`)."""

    send_attempts: int = 3
    """Sends of a call that certainly did not leave (connection refused), in the order flow and in actions."""
    retry_backoff_s: float = 0.5
    """First pause before resending such a call; doubled for each further send."""
    member_lease_s: float = 120.0
    """A member's card work (link, charge, unlink) runs one order at a time; a crashed holder's lease expires."""
    action_lease_s: float = 120.0
    """An operator action still running after this was interrupted (crash): its outcome becomes unknown."""
    decrease_by_change: bool = True
    """Lower an amount with 1Change (one call, no second hold) instead of 1ReAuth + 1Delete."""
    bulk_concurrency: int = 64
    """Gateway operations in flight for one bulk capture."""
    retry_claim_s: float = 300.0
    """A worker's claim on a due renewal retry; a retry whose worker died comes due again after this."""
    retry_concurrency: int = 16
    """Renewal retries one worker runs at once."""
    member_busy_delay_s: float = 60.0
    """A due retry whose member's card is busy (another order of the member) waits this long."""
    card_busy_wait_s: float = 10.0
    """A card request (my page, operator) waits this long for another card work of the member, then is refused."""
    card_authentication_window_s: float = 900.0
    """A register/replace through 3-D Secure waits this long for the member's browser, then is abandoned."""


@dataclass(frozen=True, kw_only=True)
class Deps:
    uow: UnitOfWorkFactory
    gateway: CardGateway
    clock: Clock
    ids: IdSource
    sealer: TokenSealer
    """Opens the card token sealed in `OrderPlaced` (used at the edge, by the subscriber)."""
    policy: Policy = field(default_factory=Policy)
    three_d_secure: ThreeDSecureForms | None = None
    """Builds and opens 3-D Secure's EncryptValues; None: this deployment cannot authenticate (orders asking for
    it are declined with `three_d_secure_unavailable`)."""
    together: Alone = field(default_factory=Alone)
    """Runs the units of a gateway step (the attempt recorded before the call, the answer applied after it) and the
    unit opening a new order's payment with those of the other orders in flight, in one transaction
    (`delivery.batching.UnitsTogether` in the service; alone, each in its own, by default). Each unit is handed in
    whole (`lambda: ...` opening its own `deps.uow()`): a batch that failed runs it again alone."""
