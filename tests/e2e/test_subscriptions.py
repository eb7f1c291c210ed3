"""Issue 9 end to end, all services as processes: subscriptions started by real first orders, renewal orders per
cycle on the subscription service's dev clock, member authorizations at the emulator, R21 skips, R22 failures with
their mails, and the buyer's and operator's changes. Observed only through HTTP APIs, Kafka and the emulator.

The dev clock lives in the subscription process and only moves forward, and checkout dates first orders by the real
clock: every subscription is therefore started before the clock first moves (module fixture), and each test moves
the clock relative to where its subscription stands, so the tests also pass alone or in another order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts.envelope import Envelope
from contracts.topics import SUBSCRIPTIONS_COMMANDS
from deploy.local import demo_shop as demo
from tests.e2e.stack import Shop, Stack
from tests.e2e.subscriptions import (
    MONTHLY,
    Started,
    auth_counts,
    changes,
    cycle_date,
    cycle_outcome,
    dev_today,
    kafka_of,
    kinds,
    mails_of,
    move_clock_to,
    my_page,
    next_cycle,
    ok,
    reconfigure,
    renewal_orders,
    scheduled_through,
    settled_order,
    start,
    subscription_call,
    subscription_events,
    view,
)
from tests.kafka_reading import read_topic
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@dataclass(frozen=True, kw_only=True)
class Subscriptions:
    monthly: Started  # shared by the tests that leave it active
    declining: Started  # its member's card is switched to "declines from now on"
    managed: Started  # skipped, paused and resumed
    ending: Started  # canceled after its current cycle


@pytest.fixture(scope="module")
async def subscriptions(stack: Stack) -> Subscriptions:
    shop = Shop(stack)
    try:
        return Subscriptions(monthly=await start(shop), declining=await start(shop), managed=await start(shop),
                             ending=await start(shop))
    finally:
        await shop.http.aclose()



async def test_a_first_order_in_the_subscription_cart_starts_one_monthly_subscription(shop, stack, subscriptions):
    sub = subscriptions.monthly
    [started] = [e for e in await subscription_events(stack, sub) if e.type == "subscription.started.v1"]
    data = started.data
    assert (data["member_id"], data["first_order_id"], data["terms"]) == (sub.member_id, sub.first_order_id, MONTHLY)
    assert data["next_cycle_on"] == cycle_date(data["started_on"], 1).isoformat()
    assert [c["order_id"] for c in (await view(shop, sub))["cycles"] if c["cycle_no"] == 1] == [sub.first_order_id]


async def test_twelve_monthly_cycles_give_twelve_renewal_orders_each_authorized_once_by_the_member(
        shop, subscriptions):
    sub = subscriptions.monthly
    before = await view(shop, sub)
    first, last = before["cycle_count"] + 1, before["cycle_count"] + 12
    await move_clock_to(shop, cycle_date(before["started_on"], last - 1))
    orders = {n: await settled_order(shop, sub, cycle_no=n, status="completed") for n in range(first, last + 1)}
    cycles = {n: await cycle_outcome(shop, sub, cycle_no=n, status="completed") for n in range(first, last + 1)}
    for n, order in orders.items():
        payment_number = order["payment"]["payment_number"]
        [tx] = await shop.emulator("transactions", MerchantFree1=payment_number)
        assert (tx["kaiin_id"], tx["state"], tx["amount"]) == (sub.kaiin_id, "authorized", order["amount"]), tx
        assert [h["operate_id"] for h in tx["history"]] == ["1Auth"]
        assert (order["payment"]["card_source"], cycles[n]["order_id"]) == ("registered_card", order["order_id"])
        assert cycles[n]["scheduled_for"] == cycle_date(before["started_on"], n - 1).isoformat()
    after = await view(shop, sub)
    assert (after["cycle_count"], after["next_cycle_on"]) == (last, cycle_date(before["started_on"], last).isoformat())
    assert sorted(await renewal_orders(shop, sub)) == list(range(2, last + 1))


async def test_a_renewal_request_delivered_again_and_copied_gives_no_second_order_or_authorization(
        shop, stack, subscriptions):
    sub = subscriptions.monthly
    cycle_no = await next_cycle(shop, sub)
    order = await settled_order(shop, sub, cycle_no=cycle_no, status="completed")
    kafka = kafka_of(stack)
    records = await read_topic(kafka, kafka.topic(SUBSCRIPTIONS_COMMANDS), at_least=1, settle=0.3)
    original = next(r for r in records if (Envelope.from_bytes(r.value).data["subscription_id"],
                                           Envelope.from_bytes(r.value).data["cycle_no"]) == (sub.subscription_id,
                                                                                              cycle_no))
    copy = Envelope.from_bytes(original.value).model_copy(update={"event_id": uuid.uuid4()})
    producer = AIOKafkaProducer(bootstrap_servers=kafka.servers)
    await producer.start()
    try:
        for value in (original.value, copy.to_bytes()):  # a redelivery, then the same cycle under a new event id
            await producer.send_and_wait(original.topic, value, key=original.key, headers=list(original.headers))
    finally:
        await producer.stop()
    later = await next_cycle(shop, sub)  # same key, same partition: checkout has read both copies before this
    await settled_order(shop, sub, cycle_no=later, status="completed")
    assert [o["order_id"] for o in (await renewal_orders(shop, sub))[cycle_no]] == [order["order_id"]]
    assert len(await shop.emulator("transactions", MerchantFree1=order["payment"]["payment_number"])) == 1


async def test_a_declined_renewal_is_payment_failed_never_reauthorized_and_mailed_once(shop, subscriptions):
    sub = subscriptions.declining
    merchant = demo.CREDENTIALS["merchant_id"]
    decline = f"{shop.stack.urls['emulator']}/_emulator/members/{merchant}/{sub.kaiin_id}/decline"
    (await shop.http.post(decline, json={"code": "G12"})).raise_for_status()
    auths = await auth_counts(shop)
    try:
        failed_cycle = await next_cycle(shop, sub)
        failed = await settled_order(shop, sub, cycle_no=failed_cycle, status="payment_failed")
    finally:
        (await shop.http.delete(decline)).raise_for_status()
    cycle = await cycle_outcome(shop, sub, cycle_no=failed_cycle, status="payment_failed")
    mails = await eventually(lambda: mails_of(shop, failed["order_id"], at_least=2), message="failure notices")
    later = await next_cycle(shop, sub)  # the next cycle authorizes again: everything about the failed one is done
    await settled_order(shop, sub, cycle_no=later, status="completed")
    assert failed["reason_code"] and cycle["reason_code"] == failed["reason_code"], (failed, cycle)
    assert "G12" in str(failed["payment"]["gateway_codes"]) + str(failed["payment"]["failed_operation"])
    assert await shop.emulator("transactions", MerchantFree1=failed["payment"]["payment_number"]) == []
    assert (await auth_counts(shop))["errors"] - auths["errors"] == 1  # one declined 1Auth, no second attempt
    still = await settled_order(shop, sub, cycle_no=failed_cycle, status="payment_failed")  # and stays failed
    assert still["order_id"] == failed["order_id"]
    assert kinds(await mails_of(shop, failed["order_id"])) == kinds(mails) == [
        ("renewal_failed_buyer", "taro@example.jp"), ("renewal_failed_shop", "orders@demo-shop.example")]


async def test_a_renewal_the_shop_does_not_authorize_completes_skipped_with_no_gateway_call(shop, subscriptions):
    sub = subscriptions.monthly
    await reconfigure(shop, authorize_at_renewal=False)
    auths = await auth_counts(shop)
    try:
        cycle_no = await next_cycle(shop, sub)
        order = await settled_order(shop, sub, cycle_no=cycle_no, status="completed")
    finally:
        await reconfigure(shop)
    payment_url = f"{shop.stack.urls['payment']}/v1/shops/{shop.shop_id}/payments/{order['order_id']}"

    async def recorded_skipped() -> dict[str, Any] | None:
        response = await shop.http.get(payment_url, params={"live": "false"}, headers=shop.operator)
        return response.json() if response.status_code == 200 and response.json()["state"] == "skipped" else None

    payment = await eventually(recorded_skipped, message="payment recorded the skip")
    storefront = ok(await shop.http.get(f"{shop.stack.urls['checkout']}/v1/orders/{order['order_id']}",
                                        headers=shop.storefront))
    cycle = await cycle_outcome(shop, sub, cycle_no=cycle_no, status="skipped")
    for shown in (order["payment"], storefront["payment"]):
        assert (shown["status"], shown["skipped_reason"], shown["payment_number"]) == (
            "skipped", "authorize_at_renewal_off", None), shown
    assert (order["payment"]["actions"], payment["history"], cycle["reason_code"]) == (
        [], [], "authorize_at_renewal_off")
    assert await auth_counts(shop) == auths


async def test_skip_next_and_pause_move_the_next_delivery_and_resume_takes_the_next_date_from_today(
        shop, stack, subscriptions):
    sub, other = subscriptions.managed, subscriptions.monthly
    start = await view(shop, sub)
    started_on, n = start["started_on"], start["cycle_count"]  # cycle n was delivered on cycle_date(started_on, n-1)
    skipped = await my_page(shop, sub, "skip-next", body={"reason": "travelling"})
    assert skipped["next_cycle_on"] == cycle_date(started_on, n + 1).isoformat()  # cycle_date(n) is left out
    paused = await my_page(shop, sub, "pause")
    assert (paused["status"], paused["next_cycle_on"]) == ("paused", None)
    await move_clock_to(shop, cycle_date(started_on, n + 1) + timedelta(days=3))
    await scheduled_through(shop, other, await dev_today(shop))
    assert (await view(shop, sub))["cycle_count"] == n  # nothing generated while paused
    resumed = ok(await subscription_call(shop, "POST", f"/{sub.subscription_id}/resume"))
    assert (resumed["status"], resumed["next_cycle_on"]) == ("active", cycle_date(started_on, n + 2).isoformat())
    assert await changes(stack, sub) == [("cycle_skipped", "buyer"), ("paused", "buyer"), ("resumed", "operator")]


async def test_a_buyer_canceling_after_the_current_cycle_gets_no_further_order_when_the_clock_moves(
        shop, stack, subscriptions):
    sub, other = subscriptions.ending, subscriptions.monthly
    before = await changes(stack, sub)
    ending = await my_page(shop, sub, "cancel", body={"when": "after_current_cycle"})
    assert (ending["status"], ending["next_cycle_on"], ending["ends_on"]) == (
        "active", None, max(ending["last_cycle_on"], (await dev_today(shop)).isoformat()))
    orders = await renewal_orders(shop, sub)
    await move_clock_to(shop, date.fromisoformat((await view(shop, other))["next_cycle_on"]) + timedelta(days=31))
    await scheduled_through(shop, other, await dev_today(shop))

    async def ended() -> dict[str, Any] | None:
        found = await view(shop, sub)
        return found if found["status"] == "canceled" else None

    final = await eventually(ended, message="ended after the current cycle")
    assert (final["cycle_count"], final["next_cycle_on"]) == (ending["cycle_count"], None)
    assert await renewal_orders(shop, sub) == orders
    assert await changes(stack, sub) == [*before, ("canceled", "buyer"), ("ended", "schedule")]

