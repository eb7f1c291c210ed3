"""`CheckoutRequested` v1 is public: its field names are pinned and it accepts what checkout must judge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.events import CheckoutRequested
from contracts.events.common import Buyer, Fee, Line, PaymentChoice, Shipping, SubscriptionTerms

STOREFRONT_JSON = """{
  "checkout_id": "sf-42", "shop_id": "demo-shop", "cart_type": "three_step",
  "buyer": {"name": "山田 花子", "name_kana": "ヤマダ ハナコ", "email": "hanako@example.jp",
            "member_id": null},
  "shipping": {"carrier_id": "sagawa", "fee": null, "recipient_name": "山田 花子", "postal_code": "530-0001",
               "prefecture": "大阪府", "city": "大阪市北区", "address_line1": "梅田1-1"},
  "lines": [{"sku": "A-1", "name": "急須", "unit_price": 5500, "quantity": 1}],
  "fees": [{"name": "代引手数料", "amount": null}],
  "payment": {"method": "escott_card", "token": "tok_x", "use_registered_card": false, "keep_card": null},
  "subscription": null
}"""


def test_checkout_requested_v1_field_names_are_pinned():
    assert CheckoutRequested.TYPE == "checkout.requested.v1"
    assert list(CheckoutRequested.model_fields) == [
        "checkout_id", "shop_id", "cart_type", "buyer", "shipping", "lines", "fees", "payment",
        "subscription", "return_url",  # added (optional) for EMV 3-D Secure (design §6.7)
        "sealed_token",  # added (optional) for checkout's HTTP gateway
    ]  # fmt: skip
    assert list(Buyer.model_fields) == ["name", "name_kana", "email", "member_id"]
    assert list(Line.model_fields) == ["sku", "name", "unit_price", "quantity"]
    assert list(Fee.model_fields) == ["name", "amount"]
    assert list(PaymentChoice.model_fields) == [
        "method",
        "token",
        "use_registered_card",
        "keep_card",
        "pay_type",
    ]
    assert list(SubscriptionTerms.model_fields) == ["every", "unit"]
    assert {"carrier_id", "fee"} <= set(Shipping.model_fields)


def test_a_storefront_document_with_unknown_fees_parses_so_checkout_can_reject_it_with_a_reason():
    request = CheckoutRequested.model_validate_json(STOREFRONT_JSON)

    assert request.shipping.fee is None
    assert request.fees[0].amount is None
    assert request.buyer.member_id is None
    assert request.payment.pay_type == "01"
    assert request.shipping.address_line2 == ""


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("cart_type",), "two_step"),
        (("payment", "method"), "bank_transfer"),
        (("payment", "pay_type"), "1"),
        (("subscription",), {"every": 1, "unit": "year"}),
        (("lines", 0, "unit_price"), -1),
        (("lines", 0, "quantity"), 0),
        (("shipping", "fee"), -100),
    ],
)
def test_malformed_values_are_refused(path, value):
    data = CheckoutRequested.model_validate_json(STOREFRONT_JSON).model_dump(mode="json")
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    with pytest.raises(ValidationError):
        CheckoutRequested.model_validate(data)


def test_a_token_is_sent_either_in_clear_or_sealed_never_both():
    document = CheckoutRequested.model_validate_json(STOREFRONT_JSON)
    assert document.sealed_token is None  # a storefront's own document needs no new field
    both = {**document.model_dump(mode="json"), "sealed_token": "gAAAA-sealed"}
    with pytest.raises(ValidationError, match="not both") as refused:
        CheckoutRequested.model_validate(both)
    assert "tok_x" not in str(refused.value)
    sealed_only = {**both, "payment": {**both["payment"], "token": None}}
    assert CheckoutRequested.model_validate(sealed_only).sealed_token == "gAAAA-sealed"
