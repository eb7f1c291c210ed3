"""Buyer names and the gateway (R14, issue 14): a name goes to e-SCOTT as MerchantFree2, so checkout refuses at
submission what the gateway could not carry, and whatever checkout accepts, the emulator accepts as payment
sends it (checkout's handler on fakes -> payment's gateway adapter -> the emulator's engine)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import OrderRejected
from services.checkout import translate
from services.checkout.handlers.checkouts import CheckoutRefused, place_checkout, submit_checkout
from services.payment.adapters.gateway import free_field
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.inbound import checkout_requested, inbound, with_shop
from tests.unit.emulator.support import CARD, auth, new_engine

BUYER = {"name_kana": "", "email": "taro@example.jp", "member_id": "m-1"}
NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=250)


def with_name(name: str, checkout_id: str = "chk-1") -> Any:
    return checkout_requested(checkout_id, buyer={"name": name, **BUYER})


async def accepted(name: str) -> bool:
    fakes = with_shop(CheckoutFakes(max_wait_s=1))
    try:
        await submit_checkout(fakes.deps, fakes.state.shops["tea-shop"],
                              translate.incoming_checkout(with_name(name)))
    except CheckoutRefused as refused:
        assert [r.code for r in refused.rejections] == ["buyer_name_unusable"]
        return False
    return True


@pytest.mark.parametrize("name", ["山田\u3000太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "山田 太郎 😀", "山" * 200, "A&B=C"])
async def test_names_written_the_usual_ways_are_accepted_and_the_emulator_takes_them(name: str) -> None:
    assert await accepted(name)
    assert auth(new_engine(), MerchantFree2=free_field(name), **CARD).fields["ResponseCd"] == "OK"


@pytest.mark.parametrize("name", ["\u3000", "\u200b", "\t\r\n", "\x7f", "&="])
async def test_a_submitted_name_with_nothing_visible_is_refused_naming_the_field(name: str) -> None:
    fakes = with_shop(CheckoutFakes(max_wait_s=1))
    with pytest.raises(CheckoutRefused) as refused:
        await submit_checkout(fakes.deps, fakes.state.shops["tea-shop"], translate.incoming_checkout(with_name(name)))
    [rejection] = refused.value.rejections
    assert (rejection.code, rejection.rule) == ("buyer_name_unusable", "R14")
    assert rejection.message.startswith("buyer.name:") and fakes.state.outbox == []


async def test_a_name_with_nothing_visible_on_kafka_is_a_rejected_order_never_a_payment() -> None:
    fakes = with_shop(CheckoutFakes(max_wait_s=1))
    event = with_name("\u200b\u3000")
    order = await place_checkout(fakes.deps, translate.incoming_checkout(event), inbound=inbound(event))
    assert order is not None and order.reason_code == "buyer_name_unusable"
    assert [e.reason_code for e in fakes.state.emitted(OrderRejected)] == ["buyer_name_unusable"]


@given(NAMES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
async def test_whatever_name_checkout_accepts_the_emulator_accepts_as_payment_sends_it(name: str) -> None:
    if await accepted(name):
        sent = free_field(name)
        reply = auth(new_engine(), MerchantFree1="20250601000000000001", MerchantFree2=sent, **CARD)
        assert (reply.fields["ResponseCd"], reply.fields["MerchantFree2"]) == ("OK", sent)
        assert sent
