"""Helpers of the notification handler tests: events as they arrive, fed through the real subscriber to the
real handlers on fakes (`tests/fakes/notification.py`), and a dispatcher pass (claim, then deliver each)."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.envelope import Envelope
from contracts.events import Event, OrderCompleted, ShopSettingsChanged
from contracts.events.common import Buyer
from delivery.envelopes import Inbound
from services.notification.domain.model import Transition
from services.notification.entrypoints import subscribers
from services.notification.handlers import sending
from tests.fakes.notification import NotificationFakes
from tests.unit.contracts import samples


def order(order_id: str = "ord-1", *, shop_id: str = "demo-shop", email: str = "taro@example.jp") -> OrderCompleted:
    buyer = Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email=email)
    return samples.order_completed().model_copy(update={"order_id": order_id, "shop_id": shop_id, "buyer": buyer})


def shop(shop_id: str = "demo-shop", **mail: str) -> ShopSettingsChanged:
    base = samples.shop_settings_changed()
    return base.model_copy(update={"shop_id": shop_id, "mail": base.mail.model_copy(update=mail)})


def inbound(event: Event, *, at: datetime | None = None) -> Inbound:
    envelope = Envelope.wrap(event, producer="checkout", correlation_id=f"chk-{event.kafka_key()}", occurred_at=at)
    return Inbound(envelope, event)


async def consume(fakes: NotificationFakes, *events: Event | Inbound) -> None:
    """Each event (or a given inbound, e.g. a redelivery) through the consumer's `handle`, in order."""
    handle = subscribers.dispatch(fakes.deps)
    for item in events:
        await handle(item if isinstance(item, Inbound) else inbound(item, at=datetime.now(UTC)), None)


async def send_due(fakes: NotificationFakes, *, limit: int = 50) -> list[Transition]:
    """One dispatcher pass: claim the due mails, then deliver each."""
    return [await sending.deliver_mail(fakes.deps, mail) for mail in await sending.claim_due_mails(fakes.deps,
                                                                                                   limit=limit)]
