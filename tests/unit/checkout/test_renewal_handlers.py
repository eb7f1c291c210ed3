"""The real renewal handlers on fakes: `RenewalOrderRequested` generates exactly one order per cycle (I4) whatever
the delivery, an R21 skip is placed and completed in one unit of work, and payment outcomes of a renewal order
follow R22 (payment_failed, or pending until payment's opt-in retry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from contracts.events import (
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    OrderRejected,
    RenewalPaymentFailed,
    ShopSettingsChanged,
)
from contracts.topics import SUBSCRIPTIONS_COMMANDS
from delivery.errors import PermanentError
from services.checkout import translate
from services.checkout.domain.order import OrderStatus, PaymentStatus
from services.checkout.entrypoints.subscribers import dispatch
from services.checkout.handlers.renewals import place_renewal
from services.checkout.handlers.shops import ShopNotFound
from services.checkout.ports import OrderQuery
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.builders import card
from tests.unit.checkout.inbound import (
    CARD_COMPANY_MESSAGE,
    authorized,
    declined,
    inbound,
    outcome_unknown,
    record,
    renewal_requested,
    renewed,
    shipping,
    with_shop,
)

RETRY_AT = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """The part of a Kafka record the subscriber reads."""

    topic: str


@pytest.fixture
def fakes() -> CheckoutFakes:
    return with_shop(CheckoutFakes())


async def test_a_due_cycle_becomes_a_pending_renewal_order_paid_by_the_registered_card(fakes):
    order = await renewed(fakes)
    assert (order.status, order.checkout_id, order.payment_number) == (OrderStatus.PENDING_PAYMENT, None,
                                                                        "20250601000000000001")
    [placed] = fakes.state.emitted(OrderPlaced)
    assert (placed.origin, placed.cart_type, placed.checkout_id) == ("renewal", "subscription", None)
    assert (placed.subscription_id, placed.cycle_no, placed.amount) == ("sub-1", 2, 3200)
    assert (placed.payment.use_registered_card, placed.payment.token, placed.sealed_token) == (True, None, None)
    assert (placed.payment.pay_type, placed.sales_mode, placed.payment_skip_reason) == ("01", "auth", None)
    assert placed.buyer.member_id == "m-1"
    envelope = fakes.state.outbox[-1]
    assert (envelope.correlation_id, envelope.subject_version) == ("sub-1:2", 0)
    assert fakes.state.announced == []  # no storefront waits on a renewal


async def test_a_redelivered_command_makes_no_second_order(fakes):
    event = renewal_requested()
    delivered = inbound(event, producer="subscription")
    first = await place_renewal(fakes.deps, translate.renewal_request(event), inbound=delivered)
    again = await place_renewal(fakes.deps, translate.renewal_request(event), inbound=delivered)
    assert first is not None and again is None
    assert list(fakes.state.orders) == [first.order_id] and len(fakes.state.emitted(OrderPlaced)) == 1


async def test_the_same_cycle_under_a_new_event_id_is_a_no_op_and_the_next_cycle_a_new_order(fakes):
    first = await renewed(fakes)
    again = await place_renewal(fakes.deps, translate.renewal_request(renewal_requested()),
                                inbound=inbound(renewal_requested(), producer="subscription"))
    assert again is None and list(fakes.state.orders) == [first.order_id]
    assert len(fakes.state.emitted(OrderPlaced)) == 1 and fakes.state.payment_sequence == 1
    third = await renewed(fakes, renewal_requested(cycle_no=3))
    assert third.payment_number != first.payment_number and len(fakes.state.orders) == 2


@pytest.mark.parametrize(("card_changes", "event_changes", "reason"), [
    ({"authorize_at_renewal": False}, {}, "authorize_at_renewal_off"),
    ({"min_amount": 5000}, {}, "amount_below_minimum"),
    ({"max_amount": 3000}, {}, "amount_above_maximum"),
    ({"min_amount": None}, {"lines": [], "fees": [], "shipping": shipping(fee=0)}, "amount_zero"),
    ({}, {"shipping": shipping(fee=None)}, "shipping_fee_unknown"),
    ({}, {"fees": [{"name": "代引手数料", "amount": None}]}, "fee_unknown"),
    ({"contract_end": date(2025, 5, 31)}, {}, "outside_contract_period"),
    ({"sales_mode": None}, {}, "card_method_not_configured"),
])  # fmt: skip
async def test_an_r21_skip_is_placed_and_completed_in_one_unit_with_the_reason(fakes, card_changes, event_changes,
                                                                              reason):
    with_shop(fakes, card=card(**card_changes))
    commits = fakes.uow.commits
    order = await renewed(fakes, renewal_requested(**event_changes))
    assert fakes.uow.commits == commits + 1
    assert (order.status, order.payment_status, order.payment_skip_reason) == (OrderStatus.COMPLETED,
                                                                                PaymentStatus.SKIPPED, reason)
    placed, completed = fakes.state.emitted()
    assert isinstance(placed, OrderPlaced) and isinstance(completed, OrderCompleted)
    assert placed.payment_skip_reason == completed.payment_skip_reason == reason
    assert (completed.payment_status, completed.origin, completed.cycle_no) == ("skipped", "renewal", 2)
    assert [e.subject_version for e in fakes.state.outbox] == [0, 1]


async def test_a_skip_for_a_fee_to_be_advised_reports_the_known_part_as_the_total(fakes):
    await renewed(fakes, renewal_requested(fees=[{"name": "代引手数料", "amount": None}]))
    [placed] = fakes.state.emitted(OrderPlaced)
    [completed] = fakes.state.emitted(OrderCompleted)
    assert placed.amount == completed.total == 2900  # lines ¥2,400 + shipping ¥500
    assert fakes.state.orders["ord_1"].amount is None


async def test_a_renewal_for_an_unknown_shop_is_refused_and_nothing_is_claimed(fakes):
    with pytest.raises(ShopNotFound):
        await renewed(fakes, renewal_requested(shop_id="no-such-shop"))
    assert fakes.state.orders == {} and fakes.state.inbox == set() and fakes.uow.rollbacks == 1


async def test_the_subscriber_dead_letters_an_unknown_shop_and_a_stranger_on_the_command_topic(fakes):
    handle = dispatch(fakes.deps)
    event = renewal_requested(shop_id="no-such-shop")
    with pytest.raises(PermanentError, match="no-such-shop"):
        await handle(inbound(event), Record(f"t1.{SUBSCRIPTIONS_COMMANDS}"))  # type: ignore[arg-type]
    stranger = ShopSettingsChanged(shop_id="tea-shop", shop_name="店",
                                   mail={"sender_address": "a@b.jp", "shop_copy_address": "c@d.jp"})
    with pytest.raises(PermanentError, match="does not belong"):
        await handle(inbound(stranger), Record(f"t1.{SUBSCRIPTIONS_COMMANDS}"))  # type: ignore[arg-type]
    await handle(inbound(renewal_requested()), Record(f"t1.{SUBSCRIPTIONS_COMMANDS}"))  # type: ignore[arg-type]
    assert len(fakes.state.orders) == 1


async def test_a_final_decline_flags_the_renewal_payment_failed_and_announces_it_without_raw_codes(fakes):
    order = await renewed(fakes)
    await record(fakes, declined(order))
    stored = fakes.state.orders[order.order_id]
    assert (stored.status, stored.gateway_codes) == (OrderStatus.PAYMENT_FAILED, ("G12",))
    [failed] = fakes.state.emitted(RenewalPaymentFailed)
    assert (failed.reason_code, failed.buyer_message, failed.cycle_no) == ("card_declined", CARD_COMPANY_MESSAGE, 2)
    assert "G12" not in failed.reason and fakes.state.emitted(OrderRejected) == []
    assert fakes.state.outbox[-1].correlation_id == "sub-1:2"


async def test_a_decline_payment_retries_keeps_the_order_pending_and_emits_nothing(fakes):
    order = await renewed(fakes)
    emitted = len(fakes.state.outbox)
    decision = await record(fakes, declined(order, retry_at=RETRY_AT))
    assert decision is not None and not decision.status_changed
    stored = fakes.state.orders[order.order_id]
    assert (stored.status, stored.retry_at) == (OrderStatus.PENDING_PAYMENT, RETRY_AT)
    assert len(fakes.state.outbox) == emitted


async def test_an_authorization_after_the_retry_completes_the_renewal_as_usual(fakes):
    order = await renewed(fakes)
    await record(fakes, declined(order, retry_at=RETRY_AT))
    await record(fakes, authorized(order, card_source="member"))
    stored = fakes.state.orders[order.order_id]
    assert (stored.status, stored.retry_at, stored.failed_operation) == (OrderStatus.COMPLETED, None, None)
    [completed] = fakes.state.emitted(OrderCompleted)
    assert (completed.origin, completed.payment_status, completed.subscription_id) == ("renewal", "authorized",
                                                                                      "sub-1")


async def test_an_unknown_renewal_outcome_needs_review_as_for_any_order(fakes):
    order = await renewed(fakes)
    await record(fakes, outcome_unknown(order))
    [review] = fakes.state.emitted(OrderNeedsReview)
    assert (review.subscription_id, review.cycle_no, review.checkout_id) == ("sub-1", 2, None)


async def test_operators_find_failed_renewals_by_status(fakes):
    order = await renewed(fakes)
    await renewed(fakes, renewal_requested(cycle_no=3))
    await record(fakes, declined(order))
    async with fakes.uow() as uow:
        found = await uow.orders.search("tea-shop", OrderQuery(status=OrderStatus.PAYMENT_FAILED))
    assert [o.order_id for o in found] == [order.order_id]

