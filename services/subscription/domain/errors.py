"""Named errors of the subscription domain. Each says what was refused; the HTTP edge maps each class to one
status and `reason_code` (entrypoints/http/errors.py), the Kafka edge dead-letters the ones an event can cause."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.subscription.domain.subscription import Subscription


class SubscriptionError(Exception):
    """Base of every refusal of this domain."""


class InvalidCycle(SubscriptionError):
    """A delivery cycle outside every 1..N days/weeks/months with a total of at most one year (HTTP 422)."""


class InvalidNextDate(SubscriptionError):
    """A next delivery date in the past, before the last generated cycle, or more than a year ahead (HTTP 422)."""


class InvalidLines(SubscriptionError):
    """Lines a subscription cannot deliver: none, or a total below ¥1 (R4) (HTTP 422)."""


class InvalidFirstOrder(SubscriptionError):
    """A completed `subscription` order no subscription can start from (a guest buyer, no cycle, no lines)."""


class SubscriptionIdTaken(SubscriptionError):
    """A first order names a subscription id that another first order's subscription has already."""


class SubscriptionNotFound(SubscriptionError):
    """No such subscription in this shop (or for this member): HTTP 404, never 403 (I6)."""


class UnknownCycle(SubscriptionError):
    """An order event names a (subscription, cycle) this service never requested."""


class CycleOrderConflict(SubscriptionError):
    """An order event names a cycle that already has another order: two orders for one cycle (I4 broken)."""


class StateConflict(SubscriptionError):
    """The change does not apply to the subscription's current state (HTTP 409 with that state)."""

    def __init__(self, message: str, subscription: Subscription) -> None:
        super().__init__(message)
        self.subscription = subscription


class SubscriptionCanceled(StateConflict):
    """A change to a canceled subscription: canceled is final."""


class SubscriptionEnding(StateConflict):
    """A change to a subscription canceled after its current cycle: only an immediate cancel still applies."""


class SubscriptionPaused(StateConflict):
    """Skipping the next cycle of a paused subscription: it has no next cycle until resumed."""
