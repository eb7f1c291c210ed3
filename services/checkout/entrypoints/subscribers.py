"""Kafka edge (style rule 3): route each decoded envelope to one handler; nothing else happens here.

One consumer group (`checkout`) reads `checkout.requests`, `payments.events` and `subscriptions.commands` with
the shared key-ordered consumer: records of one key (checkout id, order id, subscription id) in order, at least
once, inbox-deduplicated by the handlers, offsets committed after the handler's transaction. Malformed records
were dead-lettered by `decode_envelope` already; records that can never apply (a renewal for a shop checkout does
not know, a type that does not belong on its topic) raise `PermanentError`: dead-lettered at once with the
reason, the partition moves on. Payment outcomes run in batch mode (`BATCHING`: the ready ones in one transaction;
each is one unit of work and talks to nothing else); checkout requests (they may ask payment for the member's card
over HTTP first) and renewal requests run one by one.
"""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from contracts.events import CheckoutRequested, RenewalOrderRequested
from contracts.events.payments import PaymentEvent
from contracts.topics import CHECKOUT_REQUESTS, PAYMENTS_EVENTS, SUBSCRIPTIONS_COMMANDS
from delivery.batching import Batching
from delivery.consumer import Handle
from delivery.envelopes import Inbound
from delivery.errors import PermanentError
from services.checkout import translate
from services.checkout.handlers import Deps
from services.checkout.handlers.checkouts import place_checkout
from services.checkout.handlers.payments import UnknownOrder, record_payment_outcome
from services.checkout.handlers.renewals import place_renewal
from services.checkout.handlers.shops import ShopNotFound

GROUP_ID = "checkout"
"""Kafka consumer group of this service (the same name as its inbox consumer, `CheckoutUnitOfWork.SERVICE`)."""
TOPICS = (CHECKOUT_REQUESTS, PAYMENTS_EVENTS, SUBSCRIPTIONS_COMMANDS)
BATCHING: Batching[Inbound] = Batching(accepts=lambda inbound, record: isinstance(inbound.event, PaymentEvent))
"""Batch mode for `payments.events` (`record_payment_outcome`: one unit of work, no call outside it)."""


def dispatch(deps: Deps) -> Handle[Inbound]:
    async def handle(inbound: Inbound, record: ConsumerRecord) -> None:
        event = inbound.event
        if isinstance(event, CheckoutRequested):
            await on_checkout_requested(deps, inbound, event)
        elif isinstance(event, PaymentEvent):
            await on_payment_event(deps, inbound, event)
        elif isinstance(event, RenewalOrderRequested):
            await on_renewal_order_requested(deps, inbound, event)
        elif record.topic.endswith((CHECKOUT_REQUESTS, SUBSCRIPTIONS_COMMANDS)):
            raise PermanentError(f"{inbound.envelope.type} does not belong on {record.topic}")
        # other payments.events types (card links) are not checkout's business: acknowledged, ignored

    return handle


async def on_checkout_requested(deps: Deps, inbound: Inbound, event: CheckoutRequested) -> None:
    await place_checkout(deps, translate.incoming_checkout(event), inbound=inbound)


async def on_payment_event(deps: Deps, inbound: Inbound, event: PaymentEvent) -> None:
    outcome = translate.payment_outcome(event)
    if outcome is None:
        return  # card links and other payment events do not change the order
    try:
        await record_payment_outcome(deps, order_id=event.order_id, shop_id=event.shop_id,
                                     payment_number=event.payment_number, outcome=outcome, inbound=inbound)
    except UnknownOrder as exc:
        raise PermanentError(str(exc)) from None


async def on_renewal_order_requested(deps: Deps, inbound: Inbound, event: RenewalOrderRequested) -> None:
    try:
        await place_renewal(deps, translate.renewal_request(event), inbound=inbound)
    except ShopNotFound as exc:
        raise PermanentError(str(exc)) from None
