"""Checkouts over HTTP and Kafka: validation (R1-R10), idempotency by checkout_id, OrderPlaced, the DLQ."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts.events import CheckoutRequested, OrderPlaced, OrderRejected
from contracts.topics import CHECKOUT_REQUESTS, dlq
from delivery.sealing import DEV_ONLY_SEAL_KEY, TokenSealer
from tests.integration.checkout.harness import checkout_body
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
JST = timezone(timedelta(hours=9))

RULE_BREAKERS = [
    # (checkout id, changes to the valid body, expected reason code)
    ("shipping-tba", {"shipping__fee": None}, "shipping_fee_unknown"),
    ("below-min", {"lines": [{"sku": "S", "name": "見本", "unit_price": 100, "quantity": 1}]}, "amount_below_minimum"),
    ("cod-carrier", {"shipping__carrier_id": "cod"}, "carrier_excludes_card"),
    ("zero-step-sub", {"cart_type": "zero_step", "subscription": {"every": 1, "unit": "month"}},
     "subscription_in_zero_step"),
    ("installments", {"payment__pay_type": "03"}, "installments_not_offered"),
    ("zero-yen", {"lines": [{"sku": "F", "name": "無料", "unit_price": 0, "quantity": 1}], "shipping__fee": 0,
                  "fees": []}, "amount_zero"),
]


async def test_an_accepted_checkout_becomes_a_pending_order_in_its_request_announced_by_order_placed(checkout):
    shop = await checkout.configured_shop("tea", show_installments=True)
    body = checkout_body("chk-1", payment__pay_type="03")
    response = await checkout.submit(shop, body)
    assert (response.status_code, response.json()["status"]) == (202, "pending_payment")  # placed in the request
    outcome = await checkout.placed(shop, body)
    assert outcome["status"] == "pending_payment" and outcome["final"] is False
    assert outcome["order_id"] == response.json()["order_id"]
    [envelope] = await checkout.order_events(at_least=1)
    placed = envelope.event_as(OrderPlaced)
    assert (placed.order_id, placed.checkout_id, placed.shop_id) == (outcome["order_id"], "chk-1", "tea")
    assert placed.payment_number == outcome["payment_number"]
    assert placed.payment_number.startswith(datetime.now(UTC).astimezone(JST).strftime("%Y%m%d"))
    assert (placed.amount, placed.payment.pay_type, placed.sales_mode, placed.card_link_mode) == (3200, "03", "auth",
                                                                                                   "always")
    assert placed.payment.token is None  # the token travels sealed for the payment service only
    assert TokenSealer(DEV_ONLY_SEAL_KEY).open(placed.sealed_token) == body["payment"]["token"]
    assert body["payment"]["token"] not in envelope.to_bytes().decode()
    assert (placed.origin, placed.cart_type, placed.buyer.member_id) == ("checkout", "three_step", "m-1")
    assert (envelope.correlation_id, envelope.subject_version) == ("chk-1", 0)
    # no hop through checkout.requests (it would have been published before OrderPlaced, which has arrived)
    assert await checkout.records(CHECKOUT_REQUESTS, at_least=0, settle=0.2) == []
    [row] = await checkout.fetch("SELECT request::text AS request FROM orders")
    assert body["payment"]["token"] not in row["request"]  # the token travels on Kafka only


async def test_a_subscription_checkout_from_kafka_is_placed_as_lump_sum(checkout):
    await checkout.configured_shop("tea", show_installments=True)
    body = checkout_body("sub-1", cart_type="subscription", subscription={"every": 1, "unit": "month"},
                         payment__pay_type="05")
    await checkout.publish(CheckoutRequested.model_validate({**body, "shop_id": "tea"}))
    [envelope] = await checkout.order_events(at_least=1)
    placed = envelope.event_as(OrderPlaced)
    assert (placed.cart_type, placed.payment.pay_type, placed.card_link_mode) == ("subscription", "01", "always")


async def test_a_checkout_breaking_a_rule_is_refused_over_http_with_422_and_its_reason_code(checkout):
    shop = await checkout.configured_shop("tea")
    unconfigured = await checkout.create_shop("bare")
    cases = [*RULE_BREAKERS, ("not-configured", {}, "card_method_not_configured")]
    for checkout_id, changes, code in cases:
        target = unconfigured if code == "card_method_not_configured" else shop
        response = await checkout.submit(target, checkout_body(checkout_id, **changes))
        assert response.status_code == 422, (checkout_id, response.text)
        assert response.json()["reason_code"] == code and response.json()["detail"], checkout_id
    malformed = await checkout.submit(shop, {**checkout_body("bad"), "lines": [{"sku": "x"}]})
    assert (malformed.status_code, malformed.json()["reason_code"]) == (422, "schema_invalid")
    assert "lines.0.unit_price" in malformed.json()["detail"]
    self_sealed = await checkout.submit(shop, {**checkout_body("sealed"), "sealed_token": "gAAAA-made-up"})
    assert (self_sealed.status_code, self_sealed.json()["reason_code"]) == (422, "schema_invalid")
    assert "sealed_token" in self_sealed.json()["detail"]
    assert await checkout.fetch("SELECT * FROM checkout_submissions") == []  # nothing was published


async def test_a_checkout_breaking_a_rule_on_kafka_becomes_a_rejected_order_with_the_reason(checkout):
    await checkout.configured_shop("tea")
    await checkout.create_shop("bare")
    cases = [*RULE_BREAKERS, ("not-configured", {"shop_id": "bare"}, "card_method_not_configured")]
    for checkout_id, changes, _ in cases:
        await checkout.publish(CheckoutRequested.model_validate({"shop_id": "tea", **checkout_body(checkout_id,
                                                                                                   **changes)}))
    envelopes = await checkout.order_events(at_least=len(cases))
    rejected = {e.data["checkout_id"]: e.event_as(OrderRejected) for e in envelopes}
    for checkout_id, _, code in cases:
        event = rejected[checkout_id]
        assert (event.reason_code, event.payment_number) == (code, None), checkout_id
        assert event.reason and event.buyer_message
    statuses = await checkout.fetch("SELECT DISTINCT status FROM orders")
    assert [r["status"] for r in statuses] == ["rejected"]


async def test_a_repeated_checkout_id_gets_the_first_outcome_and_never_a_second_order(checkout):
    shop = await checkout.configured_shop("tea")
    body = checkout_body("chk-once")
    first = await checkout.placed(shop, body)
    again = await checkout.submit(shop, body)
    assert again.status_code == 202 and again.json()["order_id"] == first["order_id"]
    await checkout.publish(CheckoutRequested.model_validate({**body, "shop_id": "tea"}))  # a new event id
    await eventually(lambda: _inbox_count(checkout, 1), message="the published CheckoutRequested consumed")
    orders = await checkout.fetch("SELECT order_id, amount FROM orders")
    assert [(r["order_id"], r["amount"]) for r in orders] == [(first["order_id"], 3200)]
    assert [e.type for e in await checkout.order_events(at_least=1)] == ["order.placed.v1"]


async def test_a_checkout_id_reused_with_another_body_is_409_naming_the_fields_and_changes_nothing(checkout):
    shop = await checkout.configured_shop("tea")
    body = checkout_body("chk-once")
    first = await checkout.placed(shop, body)
    other_cart = {**body, "lines": [{"sku": "X", "name": "別", "unit_price": 9000, "quantity": 1}]}
    reused = await checkout.submit(shop, other_cart)
    assert (reused.status_code, reused.json()["reason_code"]) == (409, "idempotency_key_reused")
    assert reused.headers["content-type"] == "application/problem+json"
    assert sorted(".".join(e["loc"][1:]) for e in reused.json()["errors"]) == [
        "lines.0.name", "lines.0.quantity", "lines.0.sku", "lines.0.unit_price"]
    await checkout.publish(CheckoutRequested.model_validate({**other_cart, "shop_id": "tea"}))
    [dead] = await checkout.records(dlq(CHECKOUT_REQUESTS), at_least=1)
    assert dict(dead.headers)["dlq-reason"].decode().startswith("permanent error: idempotency_key_reused")
    orders = await checkout.fetch("SELECT order_id, amount FROM orders")
    assert [(r["order_id"], r["amount"]) for r in orders] == [(first["order_id"], 3200)]


async def test_malformed_kafka_input_goes_to_the_dead_letter_topic_with_the_reason(checkout):
    await checkout.configured_shop("tea")
    event = CheckoutRequested.model_validate({**checkout_body("broken"), "shop_id": "tea"})
    envelope = json.loads((await checkout.publish(event, raw=b"not json at all")).to_bytes())
    del envelope["data"]["buyer"]
    envelope["event_id"] = str(uuid.uuid4())
    await checkout.publish(event, raw=json.dumps(envelope).encode())
    dead = await checkout.records(dlq(CHECKOUT_REQUESTS), at_least=2)
    reasons = [dict(r.headers)["dlq-reason"].decode() for r in dead]
    assert any(r.startswith("invalid message: schema violation: <root>: Invalid JSON") for r in reasons)
    assert any(r.startswith("invalid message: schema violation: buyer: Field required") for r in reasons)
    assert all(event.payment.token.get_secret_value() not in reason for reason in reasons)
    assert await checkout.fetch("SELECT * FROM orders") == []


async def _inbox_count(checkout, expected: int) -> bool:
    rows = await checkout.fetch("SELECT count(*) AS n FROM inbox WHERE consumer = 'checkout'")
    return rows[0]["n"] >= expected
