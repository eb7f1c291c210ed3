"""Card notices (R18): mails about a member's stored card, not about an order.

Payment's card events and the subscription service's warning name the member, not the buyer's address: the
service keeps each member's latest name and address per shop from the orders it mails (`MemberContact`, newest
order event wins) and addresses a notice when it is composed. The events come on other topics than the orders,
in any order, so a notice whose member has no known address waits like a mail waiting for its shop's settings
(same backoff and attempts) and then ends `unsendable` with the reason: never a crash, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from services.notification.domain.kinds import CARD_KINDS
from services.notification.domain.model import (
    CompletedOrder,
    FailedRenewal,
    Mail,
    RetryPolicy,
    Transition,
    not_delivered,
    unsendable,
)


@dataclass(frozen=True, kw_only=True)
class MemberContact:
    """A member's name and address in one shop, as their latest order event (`as_of`) gave them."""

    shop_id: str
    member_id: str
    name: str
    email: str
    as_of: datetime


@dataclass(frozen=True, kw_only=True)
class CardNotice:
    """What the buyer is told about their stored card: `card_replaced` / `card_removed` (on the member's page or by
    an operator, `source`) or `card_expiring` (cycle `cycle_no` on `next_cycle_on` would charge it expired). No
    card data: the expiry month at most. `notice_id` stands where an order's mails have the order id."""

    notice_id: str
    kind: str
    shop_id: str
    member_id: str
    occurred_at: datetime
    source: str | None = None
    card_expiry: str | None = None
    subscription_id: str | None = None
    cycle_no: int | None = None
    next_cycle_on: date | None = None
    buyer_name: str = ""
    buyer_email: str = ""
    """The member's, filled in from `MemberContact` when the notice is composed (`addressed`)."""

    def __post_init__(self) -> None:
        if self.kind not in CARD_KINDS:
            raise ValueError(f"not a card notice kind: {self.kind!r}")

    @property
    def order_id(self) -> str:
        """The mail log's key of the notice's mails (their `order_id` column and events)."""
        return self.notice_id

    @property
    def mail_kinds(self) -> tuple[str, ...]:
        return (self.kind,)

    def makes(self, kind: str) -> bool:
        return kind == self.kind

    def addressed(self, contact: MemberContact | None) -> CardNotice:
        """The notice with the member's name and address (unchanged without a contact: a resend to a given
        recipient needs none)."""
        if contact is None:
            return self
        return replace(self, buyer_name=contact.name, buyer_email=contact.email)


MailSubject = CompletedOrder | FailedRenewal | CardNotice
"""What any mail is composed from: an order's event, or a card notice."""


def without_address(mail: Mail, *, notice: CardNotice, now: datetime, policy: RetryPolicy) -> Transition:
    """No address of the notice's member is known yet: try again later while attempts remain (an order of theirs
    may still be on its way), then `unsendable` with the reason (final, no SMTP, no event)."""
    reason = f"no e-mail address of member {notice.member_id!r} in shop {notice.shop_id!r}: no order of theirs seen"
    waiting = not_delivered(mail, error=reason, permanent=False, now=now, policy=policy)
    if waiting.outcome is None:
        return waiting
    return unsendable(mail, reason=f"not sent: {reason} (gave up after {mail.attempts} attempts)")
