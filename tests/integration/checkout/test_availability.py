"""Storefronts ask whether the card method is offered for a cart, and get what the payment page shows."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
PATH = "/v1/payment-methods/escott_card/availability"


async def test_an_offered_card_method_shows_name_note_logo_installments_and_the_members_masked_card(
        checkout, payment_stub):
    shop = await checkout.configured_shop("tea", show_installments=True)
    payment_stub.cards[("tea", "m-1")] = "4111********1111"
    cart = {"cart_type": "three_step", "amount": 12_000, "carrier_id": "yamato", "member_id": "m-1"}
    view = (await checkout.http.get(PATH, params=cart, headers=shop.storefront)).json()
    assert (view["offered"], view["name"]) == (True, "クレジットカード決済")
    assert view["note"] == "VISA/Master/JCB がご利用いただけます"
    assert view["logo"] == {"url": "https://cdn.example.jp/cards.png", "alt": "利用可能カード"}
    assert [o["pay_type"] for o in view["installments"]][:3] == ["01", "02", "03"]
    assert view["registered_card"] == {"masked_card_no": "4111********1111"}
    guest = (await checkout.http.get(PATH, params={**cart, "member_id": "m-2"}, headers=shop.storefront)).json()
    assert guest["registered_card"] is None and guest["registered_card_lookup"] == "ok"


NOT_OFFERED = [
    ({"amount": 500}, "amount_below_minimum"),
    ({"carrier_id": "cod"}, "carrier_excludes_card"),
    ({"shipping_fee_known": "false"}, "shipping_fee_unknown"),
    ({"unknown_fees": "代引手数料"}, "fee_unknown"),
    ({"amount": 0}, "amount_zero"),
    ({"cart_type": "zero_step", "subscription": "true"}, "subscription_in_zero_step"),
    ({"cart_type": "subscription"}, "subscription_requires_member"),
]


async def test_a_card_method_not_offered_says_why(checkout):
    shop = await checkout.configured_shop("tea")
    for params, code in NOT_OFFERED:
        cart = {"cart_type": "three_step", "amount": 12_000, "carrier_id": "yamato", **params}
        view = (await checkout.http.get(PATH, params=cart, headers=shop.storefront)).json()
        assert (view["offered"], view["reason_code"]) == (False, code), params
        assert view["reason"] and "name" not in view
    bare = await checkout.create_shop("bare")
    view = (await checkout.http.get(PATH, params={"cart_type": "three_step", "amount": 1}, headers=bare.storefront))
    assert view.json()["reason_code"] == "card_method_not_configured"


async def test_availability_still_answers_without_the_masked_card_when_payment_cannot_tell(checkout, payment_stub):
    shop = await checkout.configured_shop("tea")
    payment_stub.cards[("tea", "m-1")] = "4111********1111"
    payment_stub.down = True
    cart = {"cart_type": "three_step", "amount": 12_000, "member_id": "m-1"}
    response = await checkout.http.get(PATH, params=cart, headers=shop.storefront)
    view = response.json()
    assert (response.status_code, view["offered"], view["registered_card"]) == (200, True, None)
    assert view["registered_card_lookup"] == "unavailable"
