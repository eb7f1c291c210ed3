"""Kafka subscribers (group `notification`): thin edges that translate the contract and call one handler, which
claims the inbox in the same transaction as its effects.

Consumed: `orders.events` (`OrderCompleted`, a renewal's too, R23, and `RenewalPaymentFailed`, R22, make mail;
placed, rejected and needs-review orders get none, I3) and `shops.settings` (the shop projection). Other types
on these topics are acknowledged unchanged. Nothing here talks SMTP: recorded mails are sent by the dispatcher,
so a slow or refusing mail server never holds a consumer lane.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord

from contracts.events import OrderCompleted, RenewalPaymentFailed, ShopSettingsChanged
from contracts.topics import ORDERS_EVENTS, SHOPS_SETTINGS
from delivery.envelopes import Inbound
from services.notification import translate
from services.notification.handlers import orders, shops
from services.notification.handlers.deps import Deps
from services.notification.ports import OrderSource

GROUP_ID = "notification"
"""The Kafka consumer group, and the inbox's consumer name (`NotificationUnitOfWork.SERVICE`)."""
TOPICS = (ORDERS_EVENTS, SHOPS_SETTINGS)


def dispatch(deps: Deps) -> Callable[[Inbound, ConsumerRecord], Awaitable[None]]:
    """The consumer's `handle`: route by event type."""

    async def handle(inbound: Inbound, record: ConsumerRecord) -> None:
        event = inbound.event
        if isinstance(event, OrderCompleted):
            await on_order_completed(deps, inbound, event)
        elif isinstance(event, RenewalPaymentFailed):
            await on_renewal_payment_failed(deps, inbound, event)
        elif isinstance(event, ShopSettingsChanged):
            await on_shop_settings_changed(deps, inbound, event)

    return handle


async def on_order_completed(deps: Deps, inbound: Inbound, event: OrderCompleted) -> None:
    await orders.record_completed_order(deps, translate.order_from_contract(event), source=_source(inbound),
                                        snapshot=translate.order_snapshot(event), inbound=inbound)


async def on_renewal_payment_failed(deps: Deps, inbound: Inbound, event: RenewalPaymentFailed) -> None:
    await orders.record_failed_renewal(deps, translate.failed_renewal_from_contract(event), source=_source(inbound),
                                       snapshot=translate.order_snapshot(event), inbound=inbound)


async def on_shop_settings_changed(deps: Deps, inbound: Inbound, event: ShopSettingsChanged) -> None:
    await shops.update_shop(deps, translate.shop_from_contract(event), as_of=inbound.envelope.occurred_at,
                            inbound=inbound)


def _source(inbound: Inbound) -> OrderSource:
    """The event an order's mails come from: the causation and correlation of their `MailSent`/`MailFailed`."""
    return OrderSource(event_id=inbound.envelope.event_id, correlation_id=inbound.envelope.correlation_id)
