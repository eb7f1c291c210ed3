"""Kafka edge: group `payment` reads `orders.events` and `shops.settings`, one thin call per event type.

Delivery semantics (style rule 7): at-least-once through `delivery.consumer` (manual commits below the
lowest unfinished record, key-ordered concurrency); the inbox makes a redelivered event a no-op, and the
payment row per order makes a copy of `OrderPlaced` under a new event id harmless (design §6.2, §6.3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord

from contracts.events import OrderPlaced, ShopSettingsChanged
from contracts.topics import ORDERS_EVENTS, SHOPS_SETTINGS
from delivery.envelopes import Inbound
from services.payment import translate
from services.payment.handlers import PaymentHandlers
from services.payment.ports import Trace
from services.payment.shops import ShopHandlers

GROUP_ID = "payment"
TOPICS = (ORDERS_EVENTS, SHOPS_SETTINGS)


def dispatch(payments: PaymentHandlers, shops: ShopHandlers) -> Callable[[Inbound, ConsumerRecord],
                                                                          Awaitable[None]]:
    """The consumer's handler; other order events (completed, rejected ...) are acknowledged and ignored."""

    async def handle(inbound: Inbound, _record: ConsumerRecord) -> None:
        event = inbound.event
        if isinstance(event, OrderPlaced):
            await on_order_placed(payments, event, inbound)
        elif isinstance(event, ShopSettingsChanged):
            trace = Trace(inbound.envelope.correlation_id, inbound)
            await shops.record_settings(translate.shop_settings(event), trace)

    return handle


async def on_order_placed(payments: PaymentHandlers, event: OrderPlaced, inbound: Inbound) -> None:
    order, token = translate.place_order(event)
    await payments.place_payment(order, token, Trace(inbound.envelope.correlation_id, inbound))
