"""Helpers of the notification handler tests: events as they arrive, fed through the real subscriber to the
real handlers on fakes (`tests/fakes/notification.py`), and a dispatcher pass (claim, then deliver each)."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.envelope import Envelope
from contracts.events import (
    CardReplaced,
    CardUnlinked,
    Event,
    OrderCompleted,
    RenewalCardExpiring,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.events.common import Buyer
from contracts.events.shops import RenewalSettings
from delivery.envelopes import Inbound, Skipped
from services.notification.domain.model import Transition
from services.notification.entrypoints import subscribers
from services.notification.handlers import sending
from tests.fakes.notification import NotificationFakes
from tests.unit.contracts import samples


def order(order_id: str = "ord-1", *, shop_id: str = "demo-shop", email: str = "taro@example.jp") -> OrderCompleted:
    buyer = Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email=email)
    return samples.order_completed().model_copy(update={"order_id": order_id, "shop_id": shop_id, "buyer": buyer})


def renewal(order_id: str = "ord-r2", *, payment_status: str = "authorized",
            skip_reason: str | None = None) -> OrderCompleted:
    """A renewal order (cycle 2 of `sub-0001`) that completed: authorized, captured, or `skipped` (R21)."""
    return order(order_id).model_copy(update={
        "origin": "renewal", "checkout_id": None, "cycle_no": 2, "payment_status": payment_status,
        "payment_skip_reason": skip_reason})


def failed_renewal(order_id: str = "ord-r2") -> RenewalPaymentFailed:
    """A renewal order (cycle 2 of `sub-0001`) whose authorization was declined (R22)."""
    return samples.renewal_payment_failed().model_copy(update={"order_id": order_id, "checkout_id": None,
                                                               "cycle_no": 2})


def member_order(order_id: str = "ord-m1", *, member_id: str = "m-1001", email: str = "taro@example.jp",
                 name: str = "山田 太郎") -> OrderCompleted:
    """A completed order of a member buyer: it tells the service the member's name and address."""
    buyer = Buyer(name=name, name_kana="ヤマダ タロウ", email=email, member_id=member_id)
    return order(order_id).model_copy(update={"buyer": buyer})


def card_replaced(*, source: str = "my_page", member_id: str = "m-1001") -> CardReplaced:
    return samples.card_replaced().model_copy(update={"source": source, "member_id": member_id})


def card_unlinked(*, source: str = "operator", member_id: str = "m-1001") -> CardUnlinked:
    return samples.card_unlinked().model_copy(update={"source": source, "member_id": member_id, "order_id": None,
                                                      "reason": "member_request"})


def card_expiring(*, cycle_no: int = 3, member_id: str = "m-1001") -> RenewalCardExpiring:
    return samples.renewal_card_expiring().model_copy(update={"cycle_no": cycle_no, "member_id": member_id})


def shop(shop_id: str = "demo-shop", *, notify_buyer: bool = True, notify_cards: bool = True,
         **mail: str) -> ShopSettingsChanged:
    base = samples.shop_settings_changed()
    assert base.card is not None
    card = base.card.model_copy(update={"renewal": RenewalSettings(notify_buyer_on_failure=notify_buyer),
                                        "notify_card_changes": notify_cards})
    return base.model_copy(update={"shop_id": shop_id, "mail": base.mail.model_copy(update=mail), "card": card})


def inbound(event: Event, *, at: datetime | None = None) -> Inbound:
    envelope = Envelope.wrap(event, producer="checkout", correlation_id=f"chk-{event.kafka_key()}", occurred_at=at)
    return Inbound(envelope, event)


async def consume(fakes: NotificationFakes, *events: Event | Inbound | Skipped) -> None:
    """Each event (or a given inbound, e.g. a redelivery, or a record skipped by its type) through the consumer's
    `handle`, in order."""
    handle = subscribers.dispatch(fakes.deps)
    for item in events:
        await handle(item if isinstance(item, Inbound | Skipped) else inbound(item, at=datetime.now(UTC)), None)


async def send_due(fakes: NotificationFakes, *, limit: int = 50) -> list[Transition]:
    """One dispatcher pass: claim the due mails, then deliver each."""
    return [await sending.deliver_mail(fakes.deps, mail) for mail in await sending.claim_due_mails(fakes.deps,
                                                                                                   limit=limit)]
