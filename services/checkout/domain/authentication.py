"""EMV 3-D Secure on the order side (design §6.7): an order paid with a new card, in a shop with 3-D Secure on,
waits in `awaiting_authentication` until the buyer has been through the gateway's authentication.

Checkout decides that the order needs it and until when (the deadline); payment builds the browser's form and
reports it (`AuthenticationAsked`, the fields sealed: only the storefront gets them in clear); the payment's
authorization or decline ends the wait like any payment outcome. Renewal orders never wait (no buyer present).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ABANDONED = "authentication_abandoned"
FAILED = "authentication_failed"
REASONS = {ABANDONED: "the buyer did not finish 3-D Secure authentication before the deadline",
           FAILED: "the card's 3-D Secure authentication did not succeed"}
"""Payment's decline reasons that name the order's rejection (reason_code) instead of `payment_declined`."""


@dataclass(frozen=True, kw_only=True)
class OrderAuthentication:
    """What the order waits for: the deadline and the shop's accepted results (snapshotted at order time), the
    storefront's return page, and once payment reported it, the gateway form (`action_url`, `sealed_form`)."""

    deadline: datetime
    accepted_results: tuple[str, ...]
    return_url: str | None = None
    action_url: str | None = None
    sealed_form: str | None = None

    @property
    def ready(self) -> bool:
        """The storefront can send the buyer to the gateway now."""
        return self.action_url is not None and self.sealed_form is not None


@dataclass(frozen=True, kw_only=True)
class AuthenticationAsked:
    """Payment built the browser's form for the gateway (`PaymentAuthenticationRequired`)."""

    action_url: str
    sealed_form: str
    deadline: datetime
