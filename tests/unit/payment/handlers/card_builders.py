"""Inputs of the card management handlers (design §6.8): the member's page and operator requests, the shop's
settings and the members' subscriptions as the subscriber applies them."""

from __future__ import annotations

from datetime import date

from contracts.envelope import Envelope
from contracts.events import SubscriptionChanged, SubscriptionStarted
from contracts.events.common import SubscriptionTerms
from delivery.envelopes import Inbound
from services.payment import translate
from services.payment.domain.card_changes import ChangeSource
from services.payment.handlers.cards import CardOutcome, CardRequest, register_card
from services.payment.handlers.shops import record_shop_settings
from services.payment.handlers.subscriptions import record_subscription
from tests.fakes.payment import PaymentFakes
from tests.unit.payment.handlers.builders import SHOP, inbound, settings_changed

MEMBER = "m-1"
TERMS = SubscriptionTerms(every=1, unit="month")


def my_page(member_id: str = MEMBER, shop_id: str = SHOP) -> CardRequest:
    return CardRequest(shop_id=shop_id, member_id=member_id)


def operator(member_id: str = MEMBER, requested_by: str | None = "佐藤") -> CardRequest:
    return CardRequest(shop_id=SHOP, member_id=member_id, source=ChangeSource.OPERATOR, requested_by=requested_by)


async def card_shop(fakes: PaymentFakes, *, configured: bool = True, link_mode: str = "always") -> None:
    """The shop's credentials and its settings as the `shops.settings` subscriber applies them."""
    await fakes.add_shop(SHOP)
    event = settings_changed(configured=configured, link_mode=link_mode)
    await record_shop_settings(fakes.deps, translate.shop_settings(event), inbound=inbound(event))


async def registered(fakes: PaymentFakes, pan: str = "4111111111111111", *, exp: str = "3012",
                     member_id: str = MEMBER) -> CardOutcome:
    """The member registered a card on their page; the gateway's call log is cleared afterwards."""
    outcome = await register_card(fakes.deps, my_page(member_id), fakes.gateway.token(pan, exp))
    fakes.gateway.calls.clear()
    return outcome


async def subscription(fakes: PaymentFakes, status: str, *, version: int, subscription_id: str = "sub-1",
                       member_id: str = MEMBER) -> Inbound:
    """A subscription lifecycle event applied as the subscriber does; returns its delivery."""
    if version == 1:
        event: SubscriptionStarted | SubscriptionChanged = SubscriptionStarted(
            subscription_id=subscription_id, shop_id=SHOP, member_id=member_id, first_order_id="ord-1", terms=TERMS,
            started_on=date(2025, 6, 1), next_cycle_on=date(2025, 7, 1), status=status)  # type: ignore[arg-type]
    else:
        event = SubscriptionChanged(subscription_id=subscription_id, shop_id=SHOP, member_id=member_id,
                                    change="canceled" if status == "canceled" else "paused", status=status,  # type: ignore[arg-type]
                                    next_cycle_on=None, terms=TERMS)
    envelope = Envelope.wrap(event, producer="subscription", correlation_id=subscription_id, subject_version=version)
    delivered = Inbound(envelope, envelope.event())
    await record_subscription(fakes.deps, translate.subscription_status(event, version=version), inbound=delivered)
    return delivered
