"""The real checkout handlers on fakes: a checkout becomes exactly one order (placed or rejected, R1-R10), the
storefront's submission is published once with its token sealed, and a waiting read wakes at the outcome."""

from __future__ import annotations

import asyncio

import pytest

from contracts.events import CheckoutRequested, OrderPlaced, OrderRejected
from delivery.errors import PermanentError
from delivery.idempotency import IdempotencyKeyReused
from services.checkout import translate
from services.checkout.domain.order import Order, OrderStatus
from services.checkout.domain.rules import CartSummary
from services.checkout.domain.values import CartType
from services.checkout.handlers.checkouts import (
    CheckoutRefused,
    card_availability,
    checkout_outcome,
    place_checkout,
    submit_checkout,
)
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.inbound import (
    TOKEN,
    authorized,
    checkout_requested,
    inbound,
    placed,
    record,
    shipping,
    with_shop,
)
from tests.waiting import eventually


@pytest.fixture
def fakes() -> CheckoutFakes:
    return with_shop(CheckoutFakes(max_wait_s=30))


async def place(fakes: CheckoutFakes, event: CheckoutRequested) -> Order | None:
    return await place_checkout(fakes.deps, translate.incoming_checkout(event), inbound=inbound(event))


async def test_an_acceptable_checkout_becomes_a_pending_order_published_with_its_token_sealed(fakes):
    order = await place(fakes, checkout_requested())
    assert order is not None and order.status is OrderStatus.PENDING_PAYMENT
    assert (order.order_id, order.amount, order.payment_number) == ("ord_1", 3200, "20250601000000000001")
    assert fakes.state.orders == {"ord_1": order}
    [placed] = fakes.state.emitted(OrderPlaced)
    assert (placed.order_id, placed.amount, placed.payment.token) == ("ord_1", 3200, None)
    assert placed.sealed_token is not None and fakes.sealer.open(placed.sealed_token) == TOKEN
    assert fakes.state.announced == []  # pending: no wait can end on it, so no waiter is woken to read it


async def test_a_rejected_checkout_is_announced_to_the_waits_on_it(fakes):
    order = await place(fakes, checkout_requested(shipping=shipping(carrier_id="cod")))
    assert order is not None and order.status is OrderStatus.REJECTED
    assert fakes.state.announced == [("tea-shop", "chk-1")]


@pytest.mark.parametrize(("changes", "code"), [
    ({"shipping": shipping(carrier_id="cod")}, "carrier_excludes_card"),
    ({"lines": [{"sku": "S", "name": "試供品", "unit_price": 100, "quantity": 1}], "fees": []},
     "amount_below_minimum"),
])  # fmt: skip
async def test_a_checkout_breaking_a_rule_becomes_a_rejected_order_with_the_reason(fakes, changes, code):
    order = await place(fakes, checkout_requested(**changes))
    assert order is not None and (order.status, order.reason_code) == (OrderStatus.REJECTED, code)
    [rejected] = fakes.state.emitted(OrderRejected)
    assert (rejected.reason_code, rejected.payment_number) == (code, None)
    assert fakes.state.emitted(OrderPlaced) == []


async def test_a_checkout_for_an_unknown_shop_is_rejected_not_dropped(fakes):
    order = await place(fakes, checkout_requested(shop_id="no-such-shop"))
    assert order is not None and order.reason_code == "shop_unknown"
    assert [e.reason_code for e in fakes.state.emitted(OrderRejected)] == ["shop_unknown"]


async def test_a_redelivered_checkout_requested_applies_nothing(fakes):
    event = checkout_requested()
    delivered = inbound(event)
    first = await place_checkout(fakes.deps, translate.incoming_checkout(event), inbound=delivered)
    again = await place_checkout(fakes.deps, translate.incoming_checkout(event), inbound=delivered)
    assert first is not None and again is None
    assert list(fakes.state.orders) == ["ord_1"] and len(fakes.state.emitted()) == 1


async def test_a_repeated_checkout_id_with_the_same_body_keeps_its_first_outcome(fakes):
    first = await place(fakes, checkout_requested())
    repeat = await place(fakes, checkout_requested())
    assert first is not None and repeat is None
    assert [o.status for o in fakes.state.orders.values()] == [OrderStatus.PENDING_PAYMENT]
    assert len(fakes.state.emitted()) == 1


async def test_a_repeated_checkout_id_with_another_body_on_kafka_is_dead_lettered_naming_the_fields(fakes):
    await place(fakes, checkout_requested())
    with pytest.raises(PermanentError, match=r"idempotency_key_reused.*shipping\.carrier_id"):
        await place(fakes, checkout_requested(shipping=shipping(carrier_id="cod")))
    assert [o.status for o in fakes.state.orders.values()] == [OrderStatus.PENDING_PAYMENT]
    assert len(fakes.state.emitted()) == 1


async def test_a_resubmitted_checkout_id_with_another_cart_is_refused_naming_the_fields(fakes):
    shop = fakes.state.shops["tea-shop"]
    await submit_checkout(fakes.deps, shop, translate.incoming_checkout(checkout_requested()))
    changed = checkout_requested(lines=[{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 3}])
    with pytest.raises(IdempotencyKeyReused) as reused:
        await submit_checkout(fakes.deps, shop, translate.incoming_checkout(changed))
    assert reused.value.fields == ["lines.0.quantity"]
    assert len(fakes.state.emitted(OrderPlaced)) == 1 and len(fakes.state.orders) == 1


async def test_a_resubmission_of_a_placed_checkout_is_compared_with_its_first_body_whatever_the_token_form(fakes):
    shop = fakes.state.shops["tea-shop"]
    await submit_checkout(fakes.deps, shop, translate.incoming_checkout(checkout_requested()))
    [placed_event] = fakes.state.emitted(OrderPlaced)
    sealed = translate.sealed_for_kafka(translate.incoming_checkout(checkout_requested()), fakes.sealer)
    assert await place(fakes, sealed) is None  # the same checkout from Kafka, token sealed: the first order stands
    assert fakes.state.emitted(OrderPlaced) == [placed_event]
    outcome, submitted = await submit_checkout(fakes.deps, shop, translate.incoming_checkout(checkout_requested()))
    assert (outcome.status, submitted) == (OrderStatus.PENDING_PAYMENT, False)
    with pytest.raises(IdempotencyKeyReused) as reused:
        await submit_checkout(fakes.deps, shop, translate.incoming_checkout(checkout_requested(
            payment={"method": "escott_card", "token": "another-token-0123456789", "pay_type": "01"})))
    assert reused.value.fields == ["payment.keep_card", "payment.token"]


async def test_a_submitted_checkout_becomes_one_order_in_its_own_transaction_announced_with_the_token_sealed(fakes):
    shop = fakes.state.shops["tea-shop"]
    checkout = translate.incoming_checkout(checkout_requested())
    first = await submit_checkout(fakes.deps, shop, checkout)
    repeat = await submit_checkout(fakes.deps, shop, checkout)
    pending = OrderStatus.PENDING_PAYMENT
    assert [(o.status, submitted) for o, submitted in (first, repeat)] == [(pending, True), (pending, False)]
    assert first[0].order == repeat[0].order and len(fakes.state.orders) == 1
    assert fakes.state.emitted(CheckoutRequested) == []  # no hop through checkout.requests
    [published] = fakes.state.emitted(OrderPlaced)
    assert published.payment.token is None and published.sealed_token is not None
    assert fakes.sealer.open(published.sealed_token) == TOKEN
    assert published.order_id == first[0].order.order_id
    assert fakes.state.submissions == {("tea-shop", "chk-1")}


async def test_a_submission_breaking_a_rule_is_refused_with_every_reason_and_nothing_is_published(fakes):
    shop = fakes.state.shops["tea-shop"]
    event = checkout_requested(shipping=shipping(carrier_id="cod", fee=None))
    with pytest.raises(CheckoutRefused) as refused:
        await submit_checkout(fakes.deps, shop, translate.incoming_checkout(event))
    assert [r.code for r in refused.value.rejections] == ["carrier_excludes_card", "shipping_fee_unknown"]
    assert fakes.state.outbox == [] and fakes.state.submissions == set()


async def test_a_waiting_read_of_the_outcome_wakes_when_the_payment_outcome_is_recorded(fakes):
    order = await placed(fakes)
    waiting = asyncio.create_task(checkout_outcome(fakes.deps, "tea-shop", "chk-1", wait_s=30))

    async def watching() -> bool:  # the read registered its watch and found the order still pending
        return fakes.signals.watching("tea-shop", "chk-1") > 0

    await eventually(watching, timeout=5, message="a wait on chk-1")
    await record(fakes, authorized(order))
    async with asyncio.timeout(5):  # far below the 30 s wait: only the announcement can end it this soon
        outcome = await waiting
    assert outcome is not None and outcome.final and outcome.status is OrderStatus.COMPLETED


async def test_a_submission_that_waits_wakes_at_the_payment_outcome_and_opens_no_transaction_to_read(fakes):
    shop = fakes.state.shops["tea-shop"]
    checkout = translate.incoming_checkout(checkout_requested())
    waiting = asyncio.create_task(submit_checkout(fakes.deps, shop, checkout, wait_s=30))

    async def placed_and_watching() -> bool:
        return bool(fakes.state.orders) and fakes.signals.watching("tea-shop", "chk-1") > 0

    await eventually(placed_and_watching, timeout=5, message="chk-1 placed and its outcome watched")
    [order] = fakes.state.orders.values()
    await record(fakes, authorized(order))
    async with asyncio.timeout(5):  # far below the 30 s wait: only the announcement can end it this soon
        outcome, submitted = await waiting
    assert submitted and outcome.final and outcome.status is OrderStatus.COMPLETED
    assert fakes.uow.commits == 2  # the submission's and the payment outcome's transactions, none for reading
    assert fakes.uow.reads == 1  # once, woken by the outcome: not after the submission, nor on its announcement


async def test_a_members_registered_card_is_shown_only_while_payment_can_tell(fakes):
    shop = fakes.state.shops["tea-shop"]
    cart = CartSummary(shop_id="tea-shop", cart_type=CartType.THREE_STEP, amount=3200, carrier_id="yamato",
                       member_id="m-1")
    fakes.payment.cards[("tea-shop", "m-1")] = "4111********1111"
    shown = await card_availability(fakes.deps, shop, cart)
    fakes.payment.down = True
    hidden = await card_availability(fakes.deps, shop, cart)
    assert shown.offered and shown.registered_card is not None
    assert (shown.registered_card.masked_card_no, shown.registered_card_lookup) == ("4111********1111", "ok")
    assert hidden.offered and (hidden.registered_card, hidden.registered_card_lookup) == (None, "unavailable")
