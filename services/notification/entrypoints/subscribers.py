"""Kafka subscribers (group `notification`): thin edges that translate the contract and call one handler, which
claims the inbox in the same transaction as its effects.

Consumed: `orders.events` (`OrderCompleted`, a renewal's too, R23, and `RenewalPaymentFailed`, R22, make mail and
tell a member buyer's address; placed, rejected and needs-review orders get none, I3), `payments.events`
(`CardReplaced`, `CardUnlinked`: a card notice unless made in a checkout), `subscriptions.events`
(`RenewalCardExpiring`: a card notice) and `shops.settings` (the shop projection). Other types on these topics
are acknowledged unchanged; on `payments.events` and `subscriptions.events` they are skipped by their `type`
header before anything is parsed (`decode`). Nothing here talks SMTP: recorded mails are sent by the dispatcher,
so a slow or refusing mail server never holds a consumer lane. Every handler here is one unit of work and talks
to nothing else, so the consumer runs in batch mode (`BATCHING`: the ready records in one transaction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord

from contracts.events import (
    CardReplaced,
    CardUnlinked,
    OrderCompleted,
    RenewalCardExpiring,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS, SHOPS_SETTINGS, SUBSCRIPTIONS_EVENTS
from delivery.batching import Batching
from delivery.envelopes import Inbound, Skipped, decode_handled
from services.notification import translate
from services.notification.domain.notices import MemberContact
from services.notification.handlers import cards, orders, shops
from services.notification.handlers.deps import Deps
from services.notification.ports import OrderSource

GROUP_ID = "notification"
"""The Kafka consumer group, and the inbox's consumer name (`NotificationUnitOfWork.SERVICE`)."""
TOPICS = (ORDERS_EVENTS, PAYMENTS_EVENTS, SHOPS_SETTINGS, SUBSCRIPTIONS_EVENTS)
decode = decode_handled({PAYMENTS_EVENTS: (CardReplaced, CardUnlinked), SUBSCRIPTIONS_EVENTS: (RenewalCardExpiring,)})
"""The consumer's decoder: only the card events of `payments.events` and `subscriptions.events` are parsed."""
BATCHING: Batching[Inbound | Skipped] = Batching(accepts=lambda inbound, record: not isinstance(inbound, Skipped))
"""Batch mode for every parsed record (a skipped one needs no transaction: it is acknowledged at once)."""


def dispatch(deps: Deps) -> Callable[[Inbound | Skipped, ConsumerRecord], Awaitable[None]]:
    """The consumer's `handle`: route by event type."""

    async def handle(inbound: Inbound | Skipped, record: ConsumerRecord) -> None:
        if isinstance(inbound, Skipped):
            return
        event = inbound.event
        if isinstance(event, CardReplaced | CardUnlinked | RenewalCardExpiring):
            await on_card_event(deps, inbound, event)
        elif isinstance(event, OrderCompleted):
            await on_order_completed(deps, inbound, event)
        elif isinstance(event, RenewalPaymentFailed):
            await on_renewal_payment_failed(deps, inbound, event)
        elif isinstance(event, ShopSettingsChanged):
            await on_shop_settings_changed(deps, inbound, event)

    return handle


async def on_order_completed(deps: Deps, inbound: Inbound, event: OrderCompleted) -> None:
    await orders.record_completed_order(deps, translate.order_from_contract(event), source=_source(inbound),
                                        snapshot=translate.order_snapshot(event), buyer=_buyer(inbound, event),
                                        inbound=inbound)


async def on_renewal_payment_failed(deps: Deps, inbound: Inbound, event: RenewalPaymentFailed) -> None:
    await orders.record_failed_renewal(deps, translate.failed_renewal_from_contract(event), source=_source(inbound),
                                       snapshot=translate.order_snapshot(event), buyer=_buyer(inbound, event),
                                       inbound=inbound)


async def on_card_event(deps: Deps, inbound: Inbound, event: translate.CardEvent) -> None:
    """A card replaced or removed (not in a checkout), or a renewal that would charge it expired: one notice."""
    envelope = inbound.envelope
    notice = translate.card_notice(event, event_id=envelope.event_id, occurred_at=envelope.occurred_at)
    if notice is None:
        return  # made in a checkout: the buyer did it in the order, no notice
    await cards.record_card_notice(deps, notice, source=_source(inbound),
                                   snapshot=translate.notice_snapshot(event, notice), inbound=inbound)


async def on_shop_settings_changed(deps: Deps, inbound: Inbound, event: ShopSettingsChanged) -> None:
    await shops.update_shop(deps, translate.shop_from_contract(event), as_of=inbound.envelope.occurred_at,
                            inbound=inbound)


def _buyer(inbound: Inbound, event: OrderCompleted | RenewalPaymentFailed) -> MemberContact | None:
    return translate.member_contact(event, as_of=inbound.envelope.occurred_at)


def _source(inbound: Inbound) -> OrderSource:
    """The event an order's mails come from: the causation and correlation of their `MailSent`/`MailFailed`."""
    return OrderSource(event_id=inbound.envelope.event_id, correlation_id=inbound.envelope.correlation_id)
