"""Contracts <-> the notification domain: the only module that knows both (style rule 6)."""

from __future__ import annotations

from typing import Any

from contracts.events import MailFailed, MailSent, OrderCompleted, ShopSettingsChanged
from contracts.events.notifications import MailEvent
from services.notification.domain.model import (
    CompletedOrder,
    ExtraFee,
    MailDelivered,
    MailOutcome,
    OrderLine,
    ShippingAddress,
    ShopProfile,
)

UNKNOWN_RECIPIENT = "unknown (shop settings missing)"
"""`MailEvent.recipient` is required; a shop copy that never learned its address reports this instead."""


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
    )


def order_snapshot(event: OrderCompleted) -> dict[str, Any]:
    """The order as JSON data, kept in the mail log so retries and resends can compose its mails later."""
    return event.model_dump(mode="json")


def order_from_snapshot(snapshot: dict[str, Any]) -> CompletedOrder:
    """A kept snapshot read back; `ValidationError` if it no longer fits the contract."""
    return order_from_contract(OrderCompleted.model_validate(snapshot))


def shop_from_contract(event: ShopSettingsChanged) -> ShopProfile:
    card = event.card
    return ShopProfile(
        shop_id=event.shop_id, shop_name=event.shop_name, sender_address=event.mail.sender_address,
        sender_name=event.mail.sender_name, shop_copy_address=event.mail.shop_copy_address,
        payment_method_name=card.display_name if card else None,
        note_text=card.note.text if card else "", note_in_thanks_mail=card.note.in_thanks_mail if card else False,
    )


def outcome_to_contract(outcome: MailOutcome) -> MailEvent:
    """`MailSent` or `MailFailed` for a mail that reached a final state."""
    mail = outcome.mail
    common: dict[str, object] = {
        "order_id": mail.order_id, "shop_id": mail.shop_id, "mail_id": mail.mail_id, "kind": mail.kind,
        "recipient": mail.recipient or UNKNOWN_RECIPIENT, "attempts": max(mail.attempts, 1),
        "resend": mail.is_resend,
    }
    if isinstance(outcome, MailDelivered):
        return MailSent.model_validate({**common, "message_id": mail.message_id, "sent_at": mail.sent_at,
                                        "smtp_response": mail.smtp_response})
    return MailFailed.model_validate({**common, "last_error": mail.last_error or "unknown error",
                                      "permanent": outcome.permanent})
