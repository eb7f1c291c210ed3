"""Kafka edge: group `payment` reads `orders.events`, `payments.commands`, `shops.settings` and `subscriptions.events`
(the subscriptions' statuses the card delete guard keeps, R18; the other lifecycle types are skipped by their type
header, unparsed), one thin `on_<event>` per event type (validated by the contract at decode, mapped by
`translate`, one handler call).

Delivery semantics (style rule 7): at-least-once through `delivery.consumer` (manual commits below the
lowest unfinished record, key-ordered concurrency); the inbox makes a redelivered event a no-op, and the
payment row per order makes a copy of `OrderPlaced` under a new event id harmless (design §6.2, §6.3).
A command (or a 3-D Secure charge, or an amount change) for an order whose payment does not exist is dead-lettered
at once with its reason (`PermanentError`): nothing makes it succeed later, since checkout only sends these for orders
whose `OrderPlaced` payment already handled (same key and topic, or after the payment's own answer); an unknown
order or another shop's order id is a hostile or broken record. Only transient failures are retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord

from contracts.events import (
    ChargeAuthenticatedPayment,
    OrderAmountChanged,
    OrderPlaced,
    ShopSettingsChanged,
    SubscriptionChanged,
    SubscriptionStarted,
)
from contracts.events.commands import PaymentCommand
from contracts.topics import ORDERS_EVENTS, PAYMENTS_COMMANDS, SHOPS_SETTINGS, SUBSCRIPTIONS_EVENTS
from delivery.envelopes import Inbound, Skipped, decode_handled
from delivery.errors import PermanentError
from delivery.sealing import UnsealableToken
from services.payment import translate
from services.payment.handlers.actions import record_order_total, run_action
from services.payment.handlers.deps import Deps
from services.payment.handlers.orders import charge_authenticated, place_payment
from services.payment.handlers.shops import record_shop_settings
from services.payment.handlers.steps import PaymentNotFound
from services.payment.handlers.subscriptions import record_subscription

GROUP_ID = "payment"
TOPICS = (ORDERS_EVENTS, PAYMENTS_COMMANDS, SHOPS_SETTINGS, SUBSCRIPTIONS_EVENTS)
SUBSCRIPTION_EVENTS = (SubscriptionStarted, SubscriptionChanged)
decode = decode_handled({SUBSCRIPTIONS_EVENTS: SUBSCRIPTION_EVENTS})
"""The consumer's decoder: the subscriptions' lifecycle events of `subscriptions.events`, everything of the others."""


def dispatch(deps: Deps) -> Callable[[Inbound | Skipped, ConsumerRecord], Awaitable[None]]:
    """The consumer's handler; other order events (completed, rejected ...) are acknowledged and ignored."""

    async def handle(inbound: Inbound | Skipped, _record: ConsumerRecord) -> None:
        if isinstance(inbound, Skipped):
            return  # another type of subscriptions.events: acknowledged, nothing parsed
        try:
            await _route(deps, inbound)
        except PaymentNotFound:
            event = inbound.event
            raise PermanentError(f"no payment for order {getattr(event, 'order_id', '?')} of shop "
                                 f"{getattr(event, 'shop_id', '?')}") from None

    return handle


async def _route(deps: Deps, inbound: Inbound) -> None:
    """One `on_<event>` per event type."""
    event = inbound.event
    if isinstance(event, OrderPlaced):
        await on_order_placed(deps, event, inbound)
    elif isinstance(event, ChargeAuthenticatedPayment):
        await on_charge_authenticated(deps, event, inbound)
    elif isinstance(event, PaymentCommand):
        await on_payment_command(deps, event, inbound)
    elif isinstance(event, OrderAmountChanged):
        await on_order_amount_changed(deps, event, inbound)
    elif isinstance(event, ShopSettingsChanged):
        await on_shop_settings_changed(deps, event, inbound)
    elif isinstance(event, SubscriptionStarted | SubscriptionChanged):
        await on_subscription_event(deps, event, inbound)


async def on_order_placed(deps: Deps, event: OrderPlaced, inbound: Inbound) -> None:
    try:
        order, token = translate.place_order(event, deps.sealer)
    except UnsealableToken as exc:  # a key mismatch: keep the order (DLQ) until the keys agree, never decline it
        raise PermanentError(f"order {event.order_id}: {exc}") from None
    await place_payment(deps, order, token, inbound=inbound)


async def on_charge_authenticated(deps: Deps, event: ChargeAuthenticatedPayment, inbound: Inbound) -> None:
    await charge_authenticated(deps, shop_id=event.shop_id, order_id=event.order_id, inbound=inbound)


async def on_payment_command(deps: Deps, event: PaymentCommand, inbound: Inbound) -> None:
    await run_action(deps, translate.action_request(event), shop_id=event.shop_id, order_id=event.order_id,
                     inbound=inbound)


async def on_order_amount_changed(deps: Deps, event: OrderAmountChanged, inbound: Inbound) -> None:
    await record_order_total(deps, event.amount, shop_id=event.shop_id, order_id=event.order_id, inbound=inbound)


async def on_shop_settings_changed(deps: Deps, event: ShopSettingsChanged, inbound: Inbound) -> None:
    await record_shop_settings(deps, translate.shop_settings(event), inbound=inbound)


async def on_subscription_event(deps: Deps, event: SubscriptionStarted | SubscriptionChanged,
                                inbound: Inbound) -> None:
    status = translate.subscription_status(event, version=inbound.envelope.subject_version)
    await record_subscription(deps, status, inbound=inbound)
