"""The real payment-outcome handler on fakes: each outcome moves the order to its terminal state once (I1), a
redelivery applies nothing, and an outcome that contradicts a final order is kept as an anomaly, not applied."""

from __future__ import annotations

import pytest

from contracts.events import OrderCompleted, OrderNeedsReview, OrderRejected
from services.checkout.domain.order import OrderStatus, PaymentStatus
from services.checkout.handlers.payments import UnknownOrder
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.inbound import (
    CARD_COMPANY_MESSAGE,
    authorized,
    declined,
    inbound,
    outcome_unknown,
    placed,
    record,
    with_shop,
)


@pytest.fixture
def fakes() -> CheckoutFakes:
    return with_shop(CheckoutFakes())


async def test_an_authorization_completes_the_order_and_announces_it(fakes):
    order = await placed(fakes)
    decision = await record(fakes, authorized(order))
    assert decision is not None and decision.status_changed
    stored = fakes.state.orders[order.order_id]
    assert (stored.status, stored.payment_status, stored.version) == (OrderStatus.COMPLETED,
                                                                     PaymentStatus.AUTHORIZED, 1)
    [completed] = fakes.state.emitted(OrderCompleted)
    assert (completed.order_id, completed.total, completed.payment_status) == (order.order_id, 3200, "authorized")
    assert fakes.state.outbox[-1].subject_version == 1
    assert fakes.state.announced == [("tea-shop", "chk-1")]  # completed (placed, pending, ends no wait)


async def test_a_decline_rejects_the_order_with_the_buyer_message_and_no_raw_code(fakes):
    order = await placed(fakes)
    await record(fakes, declined(order))
    assert fakes.state.orders[order.order_id].status is OrderStatus.REJECTED
    [rejected] = fakes.state.emitted(OrderRejected)
    assert (rejected.reason_code, rejected.buyer_message) == ("payment_declined", CARD_COMPANY_MESSAGE)
    assert "G12" not in rejected.reason  # storefronts read orders.events (R16)
    assert "1Auth" not in rejected.reason and "1Auth" not in fakes.state.orders[order.order_id].reason


async def test_an_unknown_outcome_sends_the_order_to_review(fakes):
    order = await placed(fakes)
    await record(fakes, outcome_unknown(order))
    assert fakes.state.orders[order.order_id].status is OrderStatus.NEEDS_REVIEW
    [review] = fakes.state.emitted(OrderNeedsReview)
    assert (review.reason_code, review.attempt_id) == ("payment_outcome_unknown", "att-1")
    assert "1Auth" not in review.reason  # R16: no gateway operation in what storefronts read


async def test_a_redelivered_payment_event_applies_nothing(fakes):
    order = await placed(fakes)
    event = authorized(order)
    delivered = inbound(event, producer="payment")
    first = await record(fakes, event, delivered=delivered)
    again = await record(fakes, event, delivered=delivered)
    assert first is not None and again is None
    assert len(fakes.state.emitted(OrderCompleted)) == 1 and fakes.state.orders[order.order_id].version == 1


async def test_an_authorization_for_a_rejected_order_is_kept_as_an_anomaly_and_changes_nothing_else(fakes):
    order = await placed(fakes)
    await record(fakes, declined(order))
    decision = await record(fakes, authorized(order))
    assert decision is not None and decision.kind == "conflict"
    stored = fakes.state.orders[order.order_id]
    assert stored.status is OrderStatus.REJECTED and "live hold" in (stored.anomaly or "")
    assert fakes.state.emitted(OrderCompleted) == []


async def test_an_outcome_for_an_order_of_another_shop_is_refused_and_not_claimed(fakes):
    order = await placed(fakes)
    event = authorized(order, shop_id="other-shop")
    with pytest.raises(UnknownOrder):
        await record(fakes, event)
    assert fakes.state.orders[order.order_id].status is OrderStatus.PENDING_PAYMENT
    assert [key[0] for key in fakes.state.inbox] == ["checkout"]  # only the CheckoutRequested was claimed
    assert fakes.uow.rollbacks == 1
