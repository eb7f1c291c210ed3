"""Contracts <-> the notification domain: the only module that knows both (style rule 6)."""

from __future__ import annotations

from typing import Any

from contracts.events import (
    MailFailed,
    MailFailedV2,
    MailSent,
    MailSentV2,
    OrderCompleted,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.events.notifications import MailEvent
from services.notification.domain.kinds import ORDER_KINDS
from services.notification.domain.model import (
    CompletedOrder,
    ExtraFee,
    FailedRenewal,
    MailDelivered,
    MailedOrder,
    MailOutcome,
    OrderLine,
    ShippingAddress,
    ShopProfile,
)

UNKNOWN_RECIPIENT = "unknown (shop settings missing)"
"""`MailEvent.recipient` is required; a shop copy that never learned its address reports this instead."""
SNAPSHOT_TYPE = "event_type"
"""The key of a kept snapshot that names its contract (`OrderCompleted.TYPE`, `RenewalPaymentFailed.TYPE`);
snapshots kept before renewals were mailed lack it and are `OrderCompleted`s."""


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


def order_snapshot(event: OrderCompleted | RenewalPaymentFailed) -> dict[str, Any]:
    """The order as JSON data, named by its contract type, kept in the mail log so retries and resends can compose
    its mails later."""
    return {**event.model_dump(mode="json"), SNAPSHOT_TYPE: event.TYPE}


def order_from_snapshot(snapshot: dict[str, Any]) -> MailedOrder:
    """A kept snapshot read back; `ValidationError` if it no longer fits its contract, `ValueError` for a type
    this service does not mail."""
    event_type = snapshot.get(SNAPSHOT_TYPE, OrderCompleted.TYPE)
    if event_type == OrderCompleted.TYPE:
        return order_from_contract(OrderCompleted.model_validate(snapshot))
    if event_type == RenewalPaymentFailed.TYPE:
        return failed_renewal_from_contract(RenewalPaymentFailed.model_validate(snapshot))
    raise ValueError(f"no mails are made from a {event_type!r} snapshot")


def shop_from_contract(event: ShopSettingsChanged) -> ShopProfile:
    card = event.card
    return ShopProfile(
        shop_id=event.shop_id, shop_name=event.shop_name, sender_address=event.mail.sender_address,
        sender_name=event.mail.sender_name, shop_copy_address=event.mail.shop_copy_address,
        payment_method_name=card.display_name if card else None,
        note_text=card.note.text if card else "", note_in_thanks_mail=card.note.in_thanks_mail if card else False,
        notify_buyer_on_failure=card.renewal.notify_buyer_on_failure if card else True,
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
