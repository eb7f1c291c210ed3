"""Contract events the subscription service consumes, as checkout would publish them (unit and integration tests)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import (
    CardLinked,
    CardReplaced,
    CardUnlinked,
    Event,
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.events.common import Buyer, SubscriptionTerms
from contracts.events.shops import RenewalSettings
from delivery.envelopes import Inbound
from tests.unit.contracts import samples

PAYMENT_NUMBER = samples.PAYMENT_NUMBER


def first_order(order_id: str = "ord-0001", *, on: date = date(2025, 1, 31), shop_id: str = "demo-shop",
                member_id: str | None = "m-1001", every: int = 1, unit: str = "month",
                **changes: Any) -> OrderCompleted:
    """A completed first order of the `subscription` cart (checkout names no subscription id)."""
    buyer = Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id=member_id)
    return samples.order_completed().model_copy(update={
        "order_id": order_id, "shop_id": shop_id, "order_date": on, "buyer": buyer, "subscription_id": None,
        "cycle_no": None, "checkout_id": f"chk-{order_id}", "subscription": SubscriptionTerms(every=every, unit=unit),
        **changes})


def renewal_completed(subscription_id: str, cycle_no: int, *, order_id: str | None = None, shop_id: str = "demo-shop",
                      skipped_because: str | None = None) -> OrderCompleted:
    return samples.order_completed().model_copy(update={
        "order_id": order_id or f"ord-{subscription_id}-{cycle_no}", "shop_id": shop_id, "checkout_id": None,
        "origin": "renewal", "subscription_id": subscription_id, "cycle_no": cycle_no, "subscription": None,
        "payment_status": "skipped" if skipped_because else "authorized", "payment_skip_reason": skipped_because})


def renewal_placed(subscription_id: str, cycle_no: int, *, order_id: str | None = None) -> OrderPlaced:
    return samples.order_placed().model_copy(update={
        "order_id": order_id or f"ord-{subscription_id}-{cycle_no}", "checkout_id": None, "origin": "renewal",
        "subscription_id": subscription_id, "cycle_no": cycle_no})


def renewal_failed(subscription_id: str, cycle_no: int, *, order_id: str | None = None) -> RenewalPaymentFailed:
    return samples.renewal_payment_failed().model_copy(update={
        "order_id": order_id or f"ord-{subscription_id}-{cycle_no}", "checkout_id": None,
        "subscription_id": subscription_id, "cycle_no": cycle_no})


def renewal_needs_review(subscription_id: str, cycle_no: int, *, order_id: str | None = None) -> OrderNeedsReview:
    return samples.order_needs_review().model_copy(update={
        "order_id": order_id or f"ord-{subscription_id}-{cycle_no}", "checkout_id": None,
        "subscription_id": subscription_id, "cycle_no": cycle_no})


def shop_settings(shop_id: str = "demo-shop", *, lead_days: int = 0, hour_jst: int = 0) -> ShopSettingsChanged:
    base = samples.shop_settings_changed()
    assert base.card is not None
    card = base.card.model_copy(update={"renewal": RenewalSettings(lead_days=lead_days, hour_jst=hour_jst)})
    return base.model_copy(update={"shop_id": shop_id, "card": card})


def card_linked(expiry: str | None, *, member_id: str = "m-1001", shop_id: str = "demo-shop") -> CardLinked:
    """The member's card linked by an order (R7-R9), expiring in `expiry` (YYYY-MM)."""
    return samples.card_linked().model_copy(update={"shop_id": shop_id, "member_id": member_id,
                                                    "card_expiry": expiry})


def card_replaced(expiry: str, *, member_id: str = "m-1001", source: str = "my_page") -> CardReplaced:
    """The member replaced the card on their page (R18): the new card expires in `expiry`."""
    return samples.card_replaced().model_copy(update={"member_id": member_id, "card_expiry": expiry,
                                                      "source": source})


def card_unlinked(*, member_id: str = "m-1001") -> CardUnlinked:
    return samples.card_unlinked().model_copy(update={"member_id": member_id, "reason": "member_request",
                                                      "source": "my_page", "order_id": None})


def inbound(event: Event, *, occurred_at: datetime | None = None, event_id: uuid.UUID | None = None) -> Inbound:
    """The event as the consumer hands it to a subscriber (a fresh event id unless given)."""
    envelope = Envelope.wrap(event, producer="checkout", correlation_id=f"chk-{event.kafka_key()}",
                             event_id=event_id, occurred_at=occurred_at)
    return Inbound(envelope, envelope.event())
