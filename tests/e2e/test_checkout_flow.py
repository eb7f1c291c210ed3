"""Issue 4 end to end: storefront -> checkout -> payment -> e-SCOTT emulator -> order outcome -> mails."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts.gateway_text import free_text
from contracts.topics import NOTIFICATIONS_EVENTS, ORDERS_EVENTS, PAYMENTS_EVENTS, SHOPS_SETTINGS
from delivery.settings import KafkaSettings
from deploy.local import demo_shop as demo
from tests.kafka_reading import read_topic
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
G12_CARD, K99_CARD = "4000000000000002", "4000000000000101"
CARD_COMPANY = "クレジットカード会社にお問い合わせください"
SHOP_MESSAGE = "ショップ様にお問い合わせください"


async def ledger(shop, payment_number):
    return await shop.emulator("transactions", MerchantFree1=payment_number)


async def test_an_order_completes_with_one_authorization_and_two_mails(shop):
    response = await shop.checkout(shop.body(await shop.token()))
    outcome = response.json()
    assert response.status_code == 200 and outcome["status"] == "completed", outcome
    [tx] = await ledger(shop, outcome["payment_number"])
    assert (tx["state"], tx["amount"], tx["history"][0]["operate_id"]) == ("authorized", 3800, "1Auth")
    assert (tx["merchant_free1"], tx["merchant_free2"]) == (outcome["payment_number"], "山田 太郎")
    mails = await eventually(lambda: mails_for(shop, outcome["order_id"], 2), message="two mails")
    assert sorted(m["rcpt_to"][0] for m in mails) == ["orders@demo-shop.example", "taro@example.jp"]
    mail_log = f"{shop.stack.urls['notification']}/v1/shops/{shop.shop_id}/orders/{outcome['order_id']}/mails"

    async def logged_sent() -> list | None:  # the shop's operator key, registered by checkout, opens the mail log
        rows = (await shop.http.get(mail_log, headers=shop.operator)).json()
        return rows if len(rows) == 2 and all(r["status"] == "sent" for r in rows) else None

    await eventually(logged_sent, message="both mails logged as sent")
    assert (await shop.http.get(mail_log, headers={"X-Operator-Key": "not-this-shops-key"})).status_code == 404


async def mails_for(shop, order_id, count):
    response = await shop.http.get(f"{shop.stack.urls['smtp-sink']}/messages")
    found = [m for m in response.json() if m["order_id"] == order_id]
    return found if len(found) >= count else None


async def reconfigure(shop, **changes):
    response = await shop.operator_call("PUT", "/payment-methods/escott_card", {**demo.CARD, **changes})
    assert response.status_code == 200, response.text


async def test_auth_capture_mode_records_the_sale_at_once(shop):
    await reconfigure(shop, sales_mode="auth_capture", subscriptions_enabled=False)
    try:
        outcome = (await shop.checkout(shop.body(await shop.token()))).json()
    finally:
        await reconfigure(shop)
    assert outcome["status"] == "completed", outcome
    [tx] = await ledger(shop, outcome["payment_number"])
    assert (tx["state"], tx["history"][0]["operate_id"]) == ("captured", "1Gathering")


async def test_installments_are_refused_when_the_shop_does_not_show_them(shop):
    await reconfigure(shop, show_installments=False)
    try:
        response = await shop.checkout(shop.body(await shop.token(), pay_type="03"))
    finally:
        await reconfigure(shop)
    assert response.status_code == 422, response.text
    assert response.json()["reason_code"] == "installments_not_offered"


@pytest.mark.parametrize(("card", "message"), [(G12_CARD, CARD_COMPANY), (K99_CARD, None)])
async def test_a_declined_card_rejects_the_order_with_the_buyer_message_and_operators_see_the_code(
        shop, card, message):
    outcome = (await shop.checkout(shop.body(await shop.token(card)))).json()
    assert outcome["status"] == "rejected"
    if message:
        assert outcome["buyer_message"] == message
    else:
        assert outcome["buyer_message"].startswith("ソニーペイメント取引の処理に失敗いたしました")
    view = (await shop.operator_call("GET", f"/orders/{outcome['order_id']}")).json()
    assert ("G12" if card == G12_CARD else "K99") in str(view)


async def test_a_token_used_twice_is_rejected_with_the_shop_message(shop):
    token = await shop.token()
    first = (await shop.checkout(shop.body(token))).json()
    second = (await shop.checkout(shop.body(token))).json()
    assert (first["status"], second["status"]) == ("completed", "rejected")
    assert second["buyer_message"] == SHOP_MESSAGE


async def test_a_repeated_checkout_id_returns_the_first_order(shop):
    body = shop.body(await shop.token())
    first, again = (await shop.checkout(body)).json(), (await shop.checkout(body)).json()
    assert again["order_id"] == first["order_id"] and again["status"] == "completed"
    assert len(await ledger(shop, first["payment_number"])) == 1


@pytest.mark.parametrize(("change", "reason_code"), [
    ({"shipping_fee": None}, "shipping_fee_unknown"),
    ({"carrier_id": "cod"}, "carrier_excludes_card"),
    ({"cart_type": "zero_step", "subscription": {"every": 1, "unit": "month"}}, None),
    ({"free": True}, None),
])
async def test_checkouts_that_break_a_rule_are_refused_before_any_payment(shop, change, reason_code):
    body = shop.body(await shop.token())
    if "shipping_fee" in change:
        body["shipping"]["fee"] = None
    elif "carrier_id" in change:
        body["shipping"]["carrier_id"] = "cod"
    elif "free" in change:
        body["lines"][0]["unit_price"], body["shipping"]["fee"] = 0, 0
    else:
        body.update(change)
    response = await shop.checkout(body)
    assert response.status_code == 422, response.text
    if reason_code:
        assert response.json()["reason_code"] == reason_code
    assert await ledger(shop, "x") == []


@pytest.mark.parametrize("name", ["山田\u3000太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "山田 太郎 😀🎉", "山田" * 100, "\u200b\u3000\t"])
async def test_a_buyer_name_completes_with_its_gateway_form_or_is_refused_at_submission(shop, name):
    """Issue 14: never a gateway failure (K08) for a name; the emulator's ledger shows what Sony's screen would."""
    body = shop.body(await shop.token())
    body["buyer"]["name"] = name
    response = await shop.checkout(body)
    if not free_text(name):
        assert (response.status_code, response.json()["reason_code"]) == (422, "buyer_name_unusable"), response.text
        return
    outcome = response.json()
    assert (response.status_code, outcome["status"]) == (200, "completed"), outcome
    [tx] = await ledger(shop, outcome["payment_number"])
    assert tx["merchant_free2"] == free_text(name)


async def members(shop):
    return {m["kaiin_id"]: m for m in await shop.emulator("members", MerchantId="10000001")}


async def test_members_link_pay_with_the_registered_card_and_replace_it(shop):
    member = f"m-{uuid.uuid4().hex[:8]}"
    before = set(await members(shop))
    first = (await shop.checkout(shop.body(await shop.token(), member_id=member))).json()
    [kaiin_id] = set(await members(shop)) - before
    again = (await shop.checkout(shop.body(None, member_id=member, use_registered_card=True))).json()
    other = (await shop.checkout(shop.body(await shop.token("5555555555554444"), member_id=member))).json()
    assert [o["status"] for o in (first, again, other)] == ["completed"] * 3
    [by_member] = await ledger(shop, again["payment_number"])
    assert by_member["kaiin_id"] == kaiin_id
    linked = [m for m in (await members(shop)).values() if m["kaiin_id"] not in before and m["status"] == 0]
    assert [m["card"][:4] for m in linked] == ["5555"]


async def test_a_guest_never_links_a_card(shop):
    before = set(await members(shop))
    outcome = (await shop.checkout(shop.body(await shop.token()))).json()
    assert outcome["status"] == "completed"
    assert set(await members(shop)) == before


async def test_a_reset_after_processing_goes_to_review_and_is_never_charged_twice(shop):
    await shop.set_faults({"seed": 1, "operations": {"1Auth": {"reset_after": 1.0}}})
    outcome = (await shop.checkout(shop.body(await shop.token()))).json()
    await shop.set_faults(None)
    assert outcome["status"] == "needs_review", outcome
    [tx] = await ledger(shop, outcome["payment_number"])
    payment_url = f"{shop.stack.urls['payment']}/v1/shops/{shop.shop_id}/payments/{outcome['order_id']}"
    truth = {"outcome": "authorized", "transaction_id": tx["history"][0]["transaction_id"]}
    resolved = await shop.http.post(f"{payment_url}/resolve", headers=shop.operator, json=truth)
    assert resolved.status_code == 200, resolved.text
    final = await eventually(lambda: completed(shop, outcome["checkout_id"]), message="order completed")
    assert final["status"] == "completed"
    assert len(await ledger(shop, outcome["payment_number"])) == 1


async def completed(shop, checkout_id):
    response = await shop.http.get(f"{shop.stack.urls['checkout']}/v1/checkouts/{checkout_id}",
                                   headers=shop.storefront)
    return response.json() if response.json()["status"] == "completed" else None


async def test_one_payment_worker_keeps_many_authorizations_in_flight(shop):
    await shop.http.post(f"{shop.stack.urls['emulator']}/_emulator/reset")
    tokens = [await shop.token() for _ in range(100)]
    await shop.set_faults({"seed": 2, "default": {"latency_ms": 4000}})
    outcomes = await asyncio.gather(*(shop.checkout(shop.body(t), wait=30) for t in tokens))
    stats = await shop.emulator("stats")
    assert [o.json()["status"] for o in outcomes] == ["completed"] * 100
    assert stats["max_in_flight"] >= 32, stats


async def test_no_secret_reaches_any_log_line_or_event_after_the_storefront_s_request(shop, stack):
    token = await shop.token()
    outcome = (await shop.checkout(shop.body(token))).json()
    assert outcome["status"] == "completed"
    kafka = KafkaSettings(bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
                          topic_prefix=stack.env["KAFKA_TOPIC_PREFIX"])
    for topic in (ORDERS_EVENTS, PAYMENTS_EVENTS, NOTIFICATIONS_EVENTS, SHOPS_SETTINGS):
        values = b"".join(r.value for r in await read_topic(kafka, kafka.topic(topic), at_least=1))
        for secret in (token, "escottpass01", "DEMOTOKEN0001", "4111111111111111"):
            assert secret.encode() not in values, (topic, secret)
    services = ("checkout", "payment", "notification", "subscription", "emulator")
    log = "\n".join(line for line in stack.log().splitlines() if line[9:].split(" ", 1)[0] in services)
    assert '"service": "payment"' in log  # the services' own lines are what is scanned
    for secret in (token, "escottpass01", "4111111111111111", "DEMOTOKEN0001"):
        assert secret not in log


@pytest.mark.parametrize("mode", ["buyer_choice", "never"])
async def test_a_member_who_does_not_keep_the_card_loses_the_link(shop, mode):
    member = f"m-{uuid.uuid4().hex[:8]}"
    before = set(await members(shop))
    linked = (await shop.checkout(shop.body(await shop.token(), member_id=member))).json()
    [kaiin_id] = set(await members(shop)) - before
    await reconfigure(shop, card_link_mode=mode, subscriptions_enabled=False)
    try:
        keep = {"keep_card": False} if mode == "buyer_choice" else {}
        unlinked = (await shop.checkout(shop.body(await shop.token(), member_id=member, **keep))).json()
    finally:
        await reconfigure(shop)
    assert (linked["status"], unlinked["status"]) == ("completed", "completed")
    assert (await members(shop))[kaiin_id]["status"] != 0  # invalidated and deleted at the gateway
    assert set(await members(shop)) - before == {kaiin_id}  # and no new link was made
