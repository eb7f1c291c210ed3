"""payments.events move orders to exactly one terminal state (I1) and emit the matching order event."""

from __future__ import annotations

import asyncio
import time

import pytest

from contracts.events import OrderCompleted, OrderNeedsReview, OrderRejected
from contracts.topics import PAYMENTS_EVENTS, dlq
from tests.integration.checkout.harness import (
    CARD_COMPANY_MESSAGE,
    authorized,
    checkout_body,
    declined,
    outcome_unknown,
)
from tests.metrics_reading import sample, scrape
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_each_payment_outcome_moves_its_order_to_the_matching_terminal_state(checkout):
    shop = await checkout.configured_shop("tea")
    orders = [await checkout.placed(shop, checkout_body(f"chk-{n}")) for n in range(3)]
    await checkout.publish(authorized(orders[0]))
    await checkout.publish(declined(orders[1]))
    await checkout.publish(outcome_unknown(orders[2]))
    envelopes = await checkout.order_events(at_least=6)
    final = {e.data["order_id"]: e for e in envelopes if e.type != "order.placed.v1"}
    completed = final[orders[0]["order_id"]].event_as(OrderCompleted)
    assert (completed.total, completed.pay_type, completed.payment_status) == (3200, "01", "authorized")
    assert completed.payment_method_name == "クレジットカード決済"
    assert completed.payment_number == orders[0]["payment_number"]
    assert [line.sku for line in completed.lines] == ["TEA-1"] and completed.fees[0].amount == 300
    assert (completed.buyer.email, completed.shipping.fee, completed.sales_mode) == ("taro@example.jp", 500, "auth")
    rejected = final[orders[1]["order_id"]].event_as(OrderRejected)
    assert (rejected.reason_code, rejected.buyer_message) == ("payment_declined", CARD_COMPANY_MESSAGE)
    assert "G12" not in rejected.reason  # storefronts read orders.events: no raw codes (R16)
    review = final[orders[2]["order_id"]].event_as(OrderNeedsReview)
    assert (review.reason_code, review.attempt_id) == ("payment_outcome_unknown", "att-1")
    assert final[orders[0]["order_id"]].subject_version == 1
    statuses = [(await checkout.outcome(shop, f"chk-{n}")).json()["status"] for n in range(3)]
    assert statuses == ["completed", "rejected", "needs_review"]
    view = (await checkout.http.get(f"/v1/shops/tea/orders/{orders[1]['order_id']}", headers=shop.operator)).json()
    assert (view["payment"]["status"], view["payment"]["gateway_codes"]) == ("declined", ["G12"])


@pytest.mark.parametrize(("resolution", "status"), [("authorized", "completed"), ("declined", "rejected")])
async def test_an_order_in_review_is_resolved_by_a_later_payment_outcome(checkout, resolution, status):
    shop = await checkout.configured_shop("tea")
    order = await checkout.placed(shop, checkout_body("chk-r"))
    await checkout.publish(outcome_unknown(order))
    await eventually(lambda: _status(checkout, shop, checkout_id="chk-r", status="needs_review"),
                     message="needs review")
    waiting = await scrape(checkout.http)  # what ops alert on
    assert sample(waiting, "checkout_orders_needing_attention", kind="needs_review") == 1
    assert (sample(waiting, "checkout_oldest_needs_review_seconds") or 0) > 0
    event = authorized(order, resolution="operator") if resolution == "authorized" else declined(order)
    await checkout.publish(event)
    await eventually(lambda: _status(checkout, shop, checkout_id="chk-r", status=status), message=status)
    resolved = await scrape(checkout.http)
    assert sample(resolved, "checkout_orders_needing_attention", kind="needs_review") == 0
    assert sample(resolved, "checkout_oldest_needs_review_seconds") == 0
    types = [e.type for e in await checkout.order_events(at_least=3)]
    assert types == ["order.placed.v1", "order.needs_review.v1", f"order.{status}.v1"]


async def test_repeated_and_contradicting_payment_events_never_change_a_final_order(checkout):
    shop = await checkout.configured_shop("tea")
    order = await checkout.placed(shop, checkout_body("chk-d"))
    envelope = await checkout.publish(authorized(order))
    await checkout.publish(authorized(order), event_id=envelope.event_id)  # redelivered
    await checkout.publish(authorized(order))  # same outcome, new event id
    await checkout.publish(declined(order))  # contradicts the completed order
    await eventually(lambda: _anomaly(checkout, order["order_id"]), message="contradiction flagged")
    types = [e.type for e in await checkout.order_events(at_least=2)]
    assert types == ["order.placed.v1", "order.completed.v1"]
    assert (await checkout.outcome(shop, "chk-d")).json()["status"] == "completed"


async def test_a_payment_event_for_an_unknown_order_is_dead_lettered(checkout):
    stranger = {"order_id": "ord-none", "shop_id": "tea", "payment_number": "20250101000000000001", "amount": 1,
                "pay_type": "01"}
    await checkout.publish(authorized(stranger))
    [dead] = await checkout.records(dlq(PAYMENTS_EVENTS), at_least=1)
    assert dict(dead.headers)["dlq-reason"].decode().startswith("permanent error: no order ord-none")


async def test_waiting_for_an_outcome_returns_as_soon_as_the_order_is_final(checkout):
    shop = await checkout.configured_shop("tea")
    order = await checkout.placed(shop, checkout_body("chk-w"))
    started = time.monotonic()
    short = await checkout.outcome(shop, "chk-w", wait=0.3)
    assert short.status_code == 202 and time.monotonic() - started >= 0.3  # bounded: gave up, still pending
    waiting = asyncio.create_task(checkout.outcome(shop, "chk-w", wait=25))
    started = time.monotonic()
    await checkout.publish(authorized(order))
    response = await waiting
    assert (response.status_code, response.json()["status"]) == (200, "completed")
    assert time.monotonic() - started < 10, "woken by the change, not by the deadline"


async def _status(checkout, shop, *, checkout_id: str, status: str) -> bool:
    return (await checkout.outcome(shop, checkout_id)).json()["status"] == status


async def _anomaly(checkout, order_id: str) -> bool:
    rows = await checkout.fetch("SELECT anomaly FROM orders WHERE order_id = $1", order_id)
    return bool(rows and rows[0]["anomaly"])
