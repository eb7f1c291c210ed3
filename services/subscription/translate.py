"""Contracts <-> the subscription domain: the only module that imports both (style rule 6).

Inbound: a completed first order of the `subscription` cart becomes a `FirstOrder`; order events of renewal
orders become `OrderReport`s; a shop's settings snapshot becomes its `RenewalTiming`; payment's card events become
the member's `MemberCard`. Cycle 1 is always the
first order, so order events naming cycle 1 (or no cycle) are never renewal reports. Outbound: the lifecycle
events and `RenewalOrderRequested`, built from the subscription's state after the change.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from contracts.events import (
    CardLinked,
    CardReplaced,
    CardUnlinked,
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    OrderRejected,
    RenewalCardExpiring,
    RenewalCycleSettled,
    RenewalOrderRequested,
    RenewalPaymentFailed,
    ShopSettingsChanged,
    SubscriptionChanged,
    SubscriptionStarted,
)
from contracts.events import common as c
from contracts.events.orders import OrderEvent
from services.subscription.domain.cards import CardWarning, ExpiryMonth, MemberCard
from services.subscription.domain.contents import Buyer, Contents, Fee, Line, Shipping
from services.subscription.domain.cycles import Cycle, CycleStatus, OrderReport
from services.subscription.domain.errors import InvalidFirstOrder
from services.subscription.domain.schedule import RenewalTiming, Terms
from services.subscription.domain.subscription import Change, FirstOrder, Subscription

_Settled = Literal["completed", "skipped", "payment_failed", "needs_review"]


def first_order(event: OrderCompleted) -> FirstOrder | None:
    """The first order a subscription starts from, or None for any other completed order.

    Raises `InvalidFirstOrder` (or `InvalidCycle`/`InvalidLines`) when it is one but nothing can start from it.
    """
    if event.origin != "checkout" or event.cart_type != "subscription":
        return None
    if event.subscription is None:
        raise InvalidFirstOrder(f"order {event.order_id}: a subscription order without a cycle")
    if not event.buyer.member_id:
        raise InvalidFirstOrder(f"order {event.order_id}: a subscription needs a member buyer (R19), not a guest")
    return FirstOrder(
        shop_id=event.shop_id, order_id=event.order_id, order_date=event.order_date,
        member_id=event.buyer.member_id, subscription_id=event.subscription_id,
        contents=contents(buyer=event.buyer, shipping=event.shipping, lines=event.lines, fees=event.fees),
        terms=Terms.of(event.subscription.every, event.subscription.unit),
    )  # fmt: skip


def contents(*, buyer: c.Buyer, shipping: c.Shipping, lines: list[c.Line], fees: list[c.Fee]) -> Contents:
    member_id = buyer.member_id or ""
    return Contents(buyer=Buyer(name=buyer.name, name_kana=buyer.name_kana, email=buyer.email, member_id=member_id),
                    shipping=Shipping(**shipping.model_dump()), lines=tuple(domain_lines(lines)),
                    fees=tuple(Fee(f.name, f.amount) for f in fees))


def domain_lines(lines: list[c.Line]) -> list[Line]:
    return [Line(sku=x.sku, name=x.name, unit_price=x.unit_price, quantity=x.quantity) for x in lines]


def order_report(event: OrderEvent) -> OrderReport | None:
    """What an order event says about a renewal cycle, or None when it is not about one."""
    if event.subscription_id is None or event.cycle_no is None or event.cycle_no < 2:
        return None
    if getattr(event, "origin", "renewal") != "renewal":
        return None
    outcome, reason_code = _outcome(event)
    if outcome is None:
        return None
    return OrderReport(subscription_id=event.subscription_id, shop_id=event.shop_id, cycle_no=event.cycle_no,
                       order_id=event.order_id, outcome=outcome, reason_code=reason_code)


def _outcome(event: OrderEvent) -> tuple[CycleStatus | None, str | None]:
    """A renewal order's status from its event: R21 skips complete without authorization; a rejection of a
    renewal order (no R22 order) counts as a failed payment with its reason."""
    if isinstance(event, OrderPlaced):
        return CycleStatus.PLACED, None
    if isinstance(event, OrderCompleted):
        if event.payment_status == "skipped":
            return CycleStatus.SKIPPED, event.payment_skip_reason
        return CycleStatus.COMPLETED, None
    if isinstance(event, RenewalPaymentFailed | OrderRejected):
        return CycleStatus.PAYMENT_FAILED, event.reason_code
    if isinstance(event, OrderNeedsReview):
        return CycleStatus.NEEDS_REVIEW, event.reason_code
    return None, None


def renewal_timing(event: ShopSettingsChanged) -> RenewalTiming:
    """The shop's generation lead and hour; a shop without the card method gets the defaults."""
    if event.card is None:
        return RenewalTiming()
    renewal = event.card.renewal
    return RenewalTiming(lead_days=renewal.lead_days, hour_jst=renewal.hour_jst)


def member_card(event: CardLinked | CardReplaced | CardUnlinked) -> MemberCard:
    """The member's card after the event: linked or replaced with its expiry month (unknown in events older than
    the field), or none after an unlink."""
    if isinstance(event, CardUnlinked):
        return MemberCard(shop_id=event.shop_id, member_id=event.member_id, linked=False)
    expiry = ExpiryMonth.parse(event.card_expiry) if event.card_expiry else None
    return MemberCard(shop_id=event.shop_id, member_id=event.member_id, linked=True, expiry=expiry)


def subscription_started(sub: Subscription) -> SubscriptionStarted:
    return SubscriptionStarted(
        subscription_id=sub.subscription_id, shop_id=sub.shop_id, member_id=sub.member_id,
        first_order_id=sub.first_order_id, terms=terms(sub.terms), started_on=sub.started_on,
        next_cycle_on=sub.next_cycle_on, status=sub.status.value, **_contents(sub.contents),
    )  # fmt: skip


def subscription_changed(sub: Subscription, change: Change, *, changed_by: str,
                         reason: str | None = None) -> SubscriptionChanged:
    return SubscriptionChanged(
        subscription_id=sub.subscription_id, shop_id=sub.shop_id, member_id=sub.member_id, change=change.value,
        status=sub.status.value, next_cycle_on=sub.next_due_on, terms=terms(sub.terms), ends_on=sub.ends_on,
        changed_by=changed_by, reason=reason,
    )  # fmt: skip


def renewal_order_requested(sub: Subscription, cycle: Cycle) -> RenewalOrderRequested:
    """The order checkout must generate for `cycle`, with the subscription's contents as they are now."""
    return RenewalOrderRequested(
        subscription_id=sub.subscription_id, cycle_no=cycle.cycle_no, shop_id=sub.shop_id,
        scheduled_for=cycle.scheduled_for, first_order_id=sub.first_order_id, terms=terms(sub.terms),
        **_contents(sub.contents),
    )  # fmt: skip


def renewal_cycle_settled(sub: Subscription, cycle: Cycle) -> RenewalCycleSettled:
    assert cycle.order_id is not None, "a settled cycle has its order"
    return RenewalCycleSettled(
        subscription_id=sub.subscription_id, shop_id=sub.shop_id, member_id=sub.member_id, cycle_no=cycle.cycle_no,
        order_id=cycle.order_id, outcome=cast(_Settled, cycle.status.value), reason_code=cycle.reason_code or None,
    )  # fmt: skip


def renewal_card_expiring(warning: CardWarning) -> RenewalCardExpiring:
    return RenewalCardExpiring(
        subscription_id=warning.subscription_id, shop_id=warning.shop_id, member_id=warning.member_id,
        cycle_no=warning.cycle_no, next_cycle_on=warning.next_cycle_on, card_expiry=str(warning.card_expiry),
    )  # fmt: skip


def terms(value: Terms) -> c.SubscriptionTerms:
    return c.SubscriptionTerms(every=value.every, unit=value.unit.value)


def _contents(value: Contents) -> dict[str, Any]:
    """The parts are flat dataclasses: `vars()` is enough (`asdict` deep-copies, costly per renewal)."""
    return {"buyer": c.Buyer(**vars(value.buyer)), "shipping": c.Shipping(**vars(value.shipping)),
            "lines": [c.Line(**vars(x)) for x in value.lines], "fees": [c.Fee(**vars(x)) for x in value.fees]}
