"""Kafka edge (style rule 3): route each decoded envelope to one handler; nothing else happens here.

One consumer group (`subscription`) reads `orders.events`, `payments.events` (the member card events only) and
`shops.settings` (contracts.topology) with the shared key-ordered consumer: at least once, inbox-deduplicated by
the handlers, offsets committed after the handler's transaction. `decode` skips the other types of
`payments.events` by their `type` header (payment results, operations: not this service's business), before
anything is parsed. Malformed records were dead-lettered by the decoder already; records that can never apply (a
subscription order from a guest, a renewal order of a cycle never requested, a second order for one cycle) raise
`PermanentError`: dead-lettered at once with the reason, the partition moves on.
"""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from contracts.events import CardLinked, CardReplaced, CardUnlinked, OrderCompleted, ShopSettingsChanged
from contracts.events.orders import OrderEvent
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS, SHOPS_SETTINGS
from delivery.consumer import Handle
from delivery.envelopes import Inbound, Skipped, decode_handled
from delivery.errors import PermanentError
from services.subscription import translate
from services.subscription.domain.errors import SubscriptionError
from services.subscription.handlers import Deps
from services.subscription.handlers.cards import record_card_change
from services.subscription.handlers.renewals import record_renewal_order
from services.subscription.handlers.shops import update_renewal_timing
from services.subscription.handlers.starting import start_subscription

GROUP_ID = "subscription"
"""Kafka consumer group of this service (the same name as its inbox consumer, `SubscriptionUnitOfWork.SERVICE`)."""
TOPICS = (ORDERS_EVENTS, PAYMENTS_EVENTS, SHOPS_SETTINGS)
CARD_EVENTS = (CardLinked, CardReplaced, CardUnlinked)
decode = decode_handled({PAYMENTS_EVENTS: CARD_EVENTS})
"""The consumer's decoder: the card events of `payments.events`, everything of the other topics."""


def dispatch(deps: Deps) -> Handle[Inbound | Skipped]:
    async def handle(inbound: Inbound | Skipped, record: ConsumerRecord) -> None:
        if isinstance(inbound, Skipped):
            return  # another type of payments.events: acknowledged, nothing parsed
        event = inbound.event
        try:
            if isinstance(event, OrderEvent) and record.topic.endswith(ORDERS_EVENTS):
                await on_order_event(deps, inbound, event)
            elif isinstance(event, ShopSettingsChanged) and record.topic.endswith(SHOPS_SETTINGS):
                await on_shop_settings_changed(deps, inbound, event)
            elif isinstance(event, CARD_EVENTS) and record.topic.endswith(PAYMENTS_EVENTS):
                await on_card_event(deps, inbound, event)
            elif not (event.TOPIC == PAYMENTS_EVENTS and record.topic.endswith(PAYMENTS_EVENTS)):
                raise PermanentError(f"{inbound.envelope.type} does not belong on {record.topic}")
        except SubscriptionError as exc:  # the event can never apply: say why, in the dead letter
            raise PermanentError(f"{type(exc).__name__}: {exc}") from None

    return handle


async def on_order_event(deps: Deps, inbound: Inbound, event: OrderEvent) -> None:
    """A first subscription order starts a subscription; a renewal order's events settle its cycle; every
    other order event is none of this service's business (acknowledged)."""
    if isinstance(event, OrderCompleted) and (first := translate.first_order(event)) is not None:
        await start_subscription(deps, first, inbound=inbound)
    elif (report := translate.order_report(event)) is not None:
        await record_renewal_order(deps, report, inbound=inbound)


async def on_shop_settings_changed(deps: Deps, inbound: Inbound, event: ShopSettingsChanged) -> None:
    await update_renewal_timing(deps, event.shop_id, translate.renewal_timing(event),
                                as_of=inbound.envelope.occurred_at, inbound=inbound)


async def on_card_event(deps: Deps, inbound: Inbound, event: CardLinked | CardReplaced | CardUnlinked) -> None:
    """A member's card linked, replaced or unlinked (any source): its expiry month, and a warning where the next
    renewal would charge it expired."""
    await record_card_change(deps, translate.member_card(event), as_of=inbound.envelope.occurred_at, inbound=inbound)
