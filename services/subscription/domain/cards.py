"""The member's stored card as the subscription service sees it (R18, R22): only its expiry month, from payment's
card events, to warn the buyer before a renewal would charge a card that has expired.

The projection keeps one card per (shop, member): linked or replaced, it holds the new expiry; unlinked, none.
A renewal of cycle N charges the card on cycle N's date; a card whose expiry month lies before that date's month
will be refused, so the buyer is warned once for that cycle (`CardWarning`, unique per subscription and cycle):
when the cycle before it is generated, when the subscription starts, or as soon as a card event shows the
problem. A replaced card with a later expiry makes the check pass: no further warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from services.subscription.domain.subscription import Subscription

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class ExpiryMonth:
    """A card's expiry month: the card is valid through the month's last day."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> ExpiryMonth:
        """From `YYYY-MM` (the contracts' form); `ValueError` for anything else."""
        found = _MONTH.match(text)
        if found is None:
            raise ValueError(f"not an expiry month (YYYY-MM): {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def before_month_of(self, day: date) -> bool:
        """True when the card has expired by `day` (its month ended before `day`'s month began)."""
        return (self.year, self.month) < (day.year, day.month)


@dataclass(frozen=True, kw_only=True)
class MemberCard:
    """One member's stored card: `expiry` None when unlinked, or when linked without a known expiry."""

    shop_id: str
    member_id: str
    linked: bool
    expiry: ExpiryMonth | None = None


@dataclass(frozen=True, kw_only=True)
class CardWarning:
    """The buyer is told once that cycle `cycle_no` (on `next_cycle_on`) would charge a card expired by then."""

    subscription_id: str
    shop_id: str
    member_id: str
    cycle_no: int
    next_cycle_on: date
    card_expiry: ExpiryMonth
    warned_at: datetime


def expires_before_next(sub: Subscription, card: MemberCard | None) -> bool:
    """Whether the card on file will have expired by the subscription's next renewal (False: no next renewal,
    no card, or no known expiry)."""
    next_on = sub.next_due_on
    return (card is not None and card.expiry is not None and next_on is not None
            and card.expiry.before_month_of(next_on))


def warning_for_next(sub: Subscription, card: MemberCard | None, *, at: datetime) -> CardWarning | None:
    """The warning for the subscription's next cycle (not generated yet: cycle_count + 1), or None when that
    renewal can charge the card on file."""
    if card is None or card.expiry is None or sub.next_due_on is None or not expires_before_next(sub, card):
        return None
    return CardWarning(subscription_id=sub.subscription_id, shop_id=sub.shop_id, member_id=sub.member_id,
                       cycle_no=sub.cycle_count + 1, next_cycle_on=sub.next_due_on, card_expiry=card.expiry,
                       warned_at=at)
