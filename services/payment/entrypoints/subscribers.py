"""Kafka edge: group `payment` reads `orders.events`, `payments.commands` and `shops.settings`, one thin call
per event type.

Delivery semantics (style rule 7): at-least-once through `delivery.consumer` (manual commits below the
lowest unfinished record, key-ordered concurrency); the inbox makes a redelivered event a no-op, and the
payment row per order makes a copy of `OrderPlaced` under a new event id harmless (design §6.2, §6.3).
A command for an order whose payment does not exist (yet) raises `PaymentNotFound`: retried with backoff, then
dead-lettered with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord

from contracts.events import OrderAmountChanged, OrderPlaced, ShopSettingsChanged
from contracts.events.commands import PaymentCommand
from contracts.topics import ORDERS_EVENTS, PAYMENTS_COMMANDS, SHOPS_SETTINGS
from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from delivery.sealing import TokenSealer, UnsealableToken
from services.payment import translate
from services.payment.handlers import PaymentHandlers
from services.payment.operations import OperationHandlers
from services.payment.ports import Trace
from services.payment.shops import ShopHandlers

GROUP_ID = "payment"
TOPICS = (ORDERS_EVENTS, PAYMENTS_COMMANDS, SHOPS_SETTINGS)


def dispatch(payments: PaymentHandlers, shops: ShopHandlers, operations: OperationHandlers,
             sealer: TokenSealer) -> Callable[[Inbound, ConsumerRecord], Awaitable[None]]:
    """The consumer's handler; other order events (completed, rejected ...) are acknowledged and ignored."""

    async def handle(inbound: Inbound, _record: ConsumerRecord) -> None:
        event = inbound.event
        trace = Trace(inbound.envelope.correlation_id, inbound)
        if isinstance(event, OrderPlaced):
            await on_order_placed(payments, event, inbound, sealer)
        elif isinstance(event, PaymentCommand):
            await operations.operate(event.shop_id, event.order_id, translate.operation_request(event), trace=trace)
        elif isinstance(event, OrderAmountChanged):
            await operations.record_order_total(event.shop_id, event.order_id, event.amount, trace)
        elif isinstance(event, ShopSettingsChanged):
            trace = Trace(inbound.envelope.correlation_id, inbound)
            await shops.record_settings(translate.shop_settings(event), trace)

    return handle


async def on_order_placed(payments: PaymentHandlers, event: OrderPlaced, inbound: Inbound,
                          sealer: TokenSealer) -> None:
    try:
        order, token = translate.place_order(event, sealer)
    except UnsealableToken as exc:  # a key mismatch: keep the order (DLQ) until the keys agree, never decline it
        raise PermanentError(f"order {event.order_id}: {exc}") from None
    await payments.place_payment(order, token, Trace(inbound.envelope.correlation_id, inbound))
