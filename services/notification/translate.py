"""Contracts <-> the notification domain: the only module that knows both (style rule 6). Orders and card events
in, their snapshots kept and read back, mail outcomes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.events import (
    CardReplaced,
    CardUnlinked,
    MailFailed,
    MailFailedV2,
    MailSent,
    MailSentV2,
    OrderCompleted,
    RenewalCardExpiring,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.events.notifications import MailEvent
from services.notification.domain.compose import card_expiring_notice_id, card_notice_id
from services.notification.domain.kinds import CARD_EXPIRING, CARD_REMOVED, CARD_REPLACED, ORDER_KINDS
from services.notification.domain.model import (
    CompletedOrder,
    ExtraFee,
    FailedRenewal,
    MailDelivered,
    MailOutcome,
    OrderLine,
    ShippingAddress,
    ShopProfile,
)
from services.notification.domain.notices import CardNotice, MailSubject, MemberContact

UNKNOWN_RECIPIENT = "unknown (shop settings missing)"
"""`MailEvent.recipient` is required; a shop copy that never learned its address reports this instead."""
SNAPSHOT_TYPE = "event_type"
"""The key of a kept snapshot that names its contract (`OrderCompleted.TYPE`, `RenewalPaymentFailed.TYPE`, a card
event's); snapshots kept before renewals were mailed lack it and are `OrderCompleted`s."""
NOTICE_ID, OCCURRED_AT = "notice_id", "occurred_at"
"""The keys a card notice's snapshot adds to its event: its reference and when the change happened."""
CardEvent = CardReplaced | CardUnlinked | RenewalCardExpiring
_CARD_EVENTS: dict[str, type[CardEvent]] = {m.TYPE: m for m in (CardReplaced, CardUnlinked, RenewalCardExpiring)}


def order_from_contract(event: OrderCompleted) -> CompletedOrder:
    """Only completed orders reach here; fees "to be advised" cannot (checkout rejects them, R2): 0 if so."""
    s = event.shipping
    shipping = ShippingAddress(recipient_name=s.recipient_name, postal_code=s.postal_code, prefecture=s.prefecture,
                               city=s.city, address_line1=s.address_line1, address_line2=s.address_line2,
                               phone=s.phone, fee=s.fee or 0)
    return CompletedOrder(
        order_id=event.order_id, shop_id=event.shop_id, payment_number=event.payment_number,
        order_date=event.order_date, buyer_name=event.buyer.name, buyer_email=event.buyer.email,
        shipping=shipping,
        lines=tuple(OrderLine(sku=li.sku, name=li.name, unit_price=li.unit_price, quantity=li.quantity)
                    for li in event.lines),
        fees=tuple(ExtraFee(name=f.name, amount=f.amount or 0) for f in event.fees),
        total=event.total, payment_method_name=event.payment_method_name, pay_type=event.pay_type,
        subscription_every=event.subscription.every if event.subscription else None,
        subscription_unit=event.subscription.unit if event.subscription else None,
        origin=event.origin, payment_status=event.payment_status, payment_skip_reason=event.payment_skip_reason,
        subscription_id=event.subscription_id, cycle_no=event.cycle_no,
    )


def failed_renewal_from_contract(event: RenewalPaymentFailed) -> FailedRenewal:
    return FailedRenewal(
        order_id=event.order_id, shop_id=event.shop_id, payment_number=event.payment_number,
        order_date=event.order_date, buyer_name=event.buyer.name, buyer_email=event.buyer.email, total=event.total,
        reason_code=event.reason_code, reason=event.reason, buyer_message=event.buyer_message,
        subscription_id=event.subscription_id, cycle_no=event.cycle_no,
    )


def member_contact(event: OrderCompleted | RenewalPaymentFailed, *, as_of: datetime) -> MemberContact | None:
    """The buyer's name and address, when the buyer is a member (what card notices are sent to)."""
    buyer = event.buyer
    if not buyer.member_id:
        return None
    return MemberContact(shop_id=event.shop_id, member_id=buyer.member_id, name=buyer.name, email=buyer.email,
                         as_of=as_of)


def card_notice(event: CardEvent, *, event_id: UUID, occurred_at: datetime) -> CardNotice | None:
    """The notice the buyer gets for a card event, or None: a change made in a checkout is the buyer's own, in
    the order, and gets none. One notice per change event (its event id), one per warned renewal cycle."""
    if isinstance(event, RenewalCardExpiring):
        return _notice(event, notice_id=card_expiring_notice_id(event.subscription_id, event.cycle_no),
                       occurred_at=occurred_at)
    if event.source == "checkout":
        return None
    return _notice(event, notice_id=card_notice_id(event_id), occurred_at=occurred_at)


def _notice(event: CardEvent, *, notice_id: str, occurred_at: datetime) -> CardNotice:
    if isinstance(event, RenewalCardExpiring):
        return CardNotice(
            notice_id=notice_id, kind=CARD_EXPIRING, shop_id=event.shop_id, member_id=event.member_id,
            occurred_at=occurred_at, card_expiry=event.card_expiry, subscription_id=event.subscription_id,
            cycle_no=event.cycle_no, next_cycle_on=event.next_cycle_on,
        )  # fmt: skip
    replaced = isinstance(event, CardReplaced)
    return CardNotice(notice_id=notice_id, kind=CARD_REPLACED if replaced else CARD_REMOVED, shop_id=event.shop_id,
                      member_id=event.member_id, occurred_at=occurred_at, source=event.source,
                      card_expiry=event.card_expiry if isinstance(event, CardReplaced) else None)


def notice_snapshot(event: CardEvent, notice: CardNotice) -> dict[str, Any]:
    """The card event as JSON data with the notice's reference and time, kept like an order's snapshot."""
    return {**event.model_dump(mode="json"), SNAPSHOT_TYPE: event.TYPE, NOTICE_ID: notice.notice_id,
            OCCURRED_AT: notice.occurred_at.isoformat()}


def order_snapshot(event: OrderCompleted | RenewalPaymentFailed) -> dict[str, Any]:
    """The order as JSON data, named by its contract type, kept in the mail log so retries and resends can compose
    its mails later."""
    return {**event.model_dump(mode="json"), SNAPSHOT_TYPE: event.TYPE}


def order_from_snapshot(snapshot: dict[str, Any]) -> MailSubject:
    """A kept snapshot read back; `ValidationError` if it no longer fits its contract, `ValueError` for a type
    this service does not mail."""
    event_type = snapshot.get(SNAPSHOT_TYPE, OrderCompleted.TYPE)
    if event_type == OrderCompleted.TYPE:
        return order_from_contract(OrderCompleted.model_validate(snapshot))
    if event_type == RenewalPaymentFailed.TYPE:
        return failed_renewal_from_contract(RenewalPaymentFailed.model_validate(snapshot))
    if event_type in _CARD_EVENTS:
        return _notice_from_snapshot(_CARD_EVENTS[event_type].model_validate(snapshot), snapshot)
    raise ValueError(f"no mails are made from a {event_type!r} snapshot")


def _notice_from_snapshot(event: CardEvent, snapshot: dict[str, Any]) -> CardNotice:
    """The notice as recorded: its reference and time are the snapshot's, the rest is the event's."""
    return _notice(event, notice_id=snapshot[NOTICE_ID], occurred_at=datetime.fromisoformat(snapshot[OCCURRED_AT]))


def shop_from_contract(event: ShopSettingsChanged) -> ShopProfile:
    card = event.card
    return ShopProfile(
        shop_id=event.shop_id, shop_name=event.shop_name, sender_address=event.mail.sender_address,
        sender_name=event.mail.sender_name, shop_copy_address=event.mail.shop_copy_address,
        payment_method_name=card.display_name if card else None,
        note_text=card.note.text if card else "", note_in_thanks_mail=card.note.in_thanks_mail if card else False,
        notify_buyer_on_failure=card.renewal.notify_buyer_on_failure if card else True,
        notify_card_changes=card.notify_card_changes if card else True,
    )


def outcome_to_contract(outcome: MailOutcome) -> MailEvent:
    """`MailSent` or `MailFailed` for a mail that reached a final state: v1 for the order mails (`thanks`,
    `shop_copy`), v2 for the renewal notices, whose kinds v1 does not know (its consumers never see them)."""
    mail = outcome.mail
    common: dict[str, object] = {
        "order_id": mail.order_id, "shop_id": mail.shop_id, "mail_id": mail.mail_id, "kind": mail.kind,
        "recipient": mail.recipient or UNKNOWN_RECIPIENT, "attempts": max(mail.attempts, 1),
        "resend": mail.is_resend,
    }
    v1 = mail.kind in ORDER_KINDS
    if isinstance(outcome, MailDelivered):
        sent = MailSent if v1 else MailSentV2
        return sent.model_validate({**common, "message_id": mail.message_id, "sent_at": mail.sent_at,
                                    "smtp_response": mail.smtp_response})
    failed = MailFailed if v1 else MailFailedV2
    return failed.model_validate({**common, "last_error": mail.last_error or "unknown error",
                                  "permanent": outcome.permanent})
