"""Registered-card management against the emulator over real HTTP, PostgreSQL and Kafka (issue 10, design §6.8,
R18, R22): the member's page registers, shows, replaces and deletes the card, each step checked against the
emulator's members API and announced once on payments.events; the delete guard follows subscriptions.events;
refusals leave no half-registered member; one member's concurrent card work ends with the gateway and our record
agreeing."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from contracts.envelope import Envelope
from contracts.events import (
    CardLinked,
    CardReplaced,
    CardUnlinked,
    PaymentAuthorized,
    SubscriptionChanged,
    SubscriptionStarted,
)
from contracts.events.common import SubscriptionTerms
from emulator.config import Merchant
from tests.integration.payment.conftest import payment_harness
from tests.integration.payment.support import (
    OPERATOR_KEY,
    SHOP,
    STOREFRONT_KEY,
    PaymentHarness,
    order_placed,
)
from tests.metrics_reading import sample, scrape
from tests.unit.payment.handlers.builders import settings_changed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
VISA, MASTERCARD, JCB, UNUSABLE = "4111111111111111", "5555555555554444", "3530111333300000", "4000000000000002"
VALID, DELETED = 0, 4
TERMS = SubscriptionTerms(every=1, unit="month")


async def card(h: PaymentHarness, method: str, member_id: str, *, token: str | None = None, shop_id: str = SHOP,
               key: str = STOREFRONT_KEY) -> httpx.Response:
    """The member's card page (storefront key) calling payment."""
    return await h.api.request(method, f"/v1/shops/{shop_id}/members/{member_id}/card",
                               json={"token": token} if token else None, headers={"X-Storefront-Key": key})


async def customer(h: PaymentHarness, method: str, member_id: str, path: str = "") -> httpx.Response:
    """The shop's customer view (operator key)."""
    return await h.api.request(method, f"/v1/shops/{SHOP}/customers/{member_id}/card{path}",
                               headers={"X-Operator-Key": OPERATOR_KEY})


async def configured(h: PaymentHarness, *, shop_id: str = SHOP) -> None:
    """The shop's card method configured, as checkout publishes it on shops.settings."""
    await h.consumed(await h.publish(settings_changed(shop_id=shop_id)))


async def card_events(h: PaymentHarness, member_id: str, count: int) -> list[Any]:
    async def arrived() -> list[Any]:
        found = [e.event() for e in h.events_of(f"{SHOP}:{member_id}")]
        return found if len(found) >= count else []
    return await eventually(arrived, message=f"{count} card events of {member_id}")


async def member_at_gateway(h: PaymentHarness, kaiin_ids: set[str]) -> list[dict[str, Any]]:
    return [m for m in await h.members() if m["kaiin_id"] in kaiin_ids]


async def kaiin_ids(h: PaymentHarness, member_id: str) -> set[str]:
    """Every gateway member id our record ever minted for the member."""
    conn = await asyncpg.connect(h.database_url)
    try:
        rows = await conn.fetch("SELECT kaiin_id FROM member_cards WHERE shop_id = $1 AND member_id = $2", SHOP,
                                member_id)
    finally:
        await conn.close()
    return {r["kaiin_id"] for r in rows}


async def test_register_show_replace_delete_each_as_the_emulator_holds_it(harness: PaymentHarness) -> None:
    await configured(harness)
    registered = await card(harness, "POST", "m-1", token=await harness.token(VISA, "3012"))
    assert registered.status_code == 201, registered.text
    [member] = await harness.members()
    shown = (await card(harness, "GET", "m-1")).json()
    assert (member["status"], member["card"], member["card_exp"]) == (VALID, "4111********1111", "3012")
    assert shown["card"] == {"brand": "Visa", "masked_card_no": "4111********1111", "first4": "4111", "last4": "1111",
                             "expiry": "2030-12", "expired": False, "expires_this_month": False}

    replaced = await card(harness, "PUT", "m-1", token=await harness.token(MASTERCARD, "3101"))
    assert replaced.status_code == 200, replaced.text
    [member] = await harness.members()
    assert (member["card"], member["card_exp"], replaced.json()["card"]["masked_card_no"]) == (
        "5555********4444", "3101", "5555********4444")
    assert await harness.ledger() == []  # no authorization, no charge

    deleted = await card(harness, "DELETE", "m-1")
    assert (deleted.status_code, deleted.json()["linked"]) == (200, False), deleted.text
    [member] = await harness.members()
    assert member["status"] == DELETED
    events = await card_events(harness, "m-1", 3)
    assert [type(e) for e in events] == [CardLinked, CardReplaced, CardUnlinked]
    assert [(e.source, getattr(e, "card_expiry", None)) for e in events] == [
        ("my_page", "2030-12"), ("my_page", "2031-01"), ("my_page", None)]
    assert not [e for e in harness.events if e.type == PaymentAuthorized.TYPE]


async def test_no_token_or_card_number_reaches_a_log_line_an_event_or_an_answer(harness: PaymentHarness) -> None:
    await configured(harness)
    tokens = [await harness.token(VISA), await harness.token(MASTERCARD)]
    answers = [await card(harness, "POST", "m-10", token=tokens[0]),
               await card(harness, "PUT", "m-10", token=tokens[1]),
               await card(harness, "PUT", "m-10", token=tokens[1]),  # spent: refused with KI2
               await card(harness, "GET", "m-10")]
    await card_events(harness, "m-10", 2)
    assert harness.logs is not None and harness.logs.lines
    seen = "\n".join([*harness.logs.lines, *(a.text for a in answers)]).encode() + b"".join(harness.raw_events)
    for secret in (*tokens, VISA, MASTERCARD):
        assert secret.encode() not in seen, secret


async def test_a_card_cannot_be_deleted_while_a_subscription_renews_with_it(harness: PaymentHarness) -> None:
    await configured(harness)
    await card(harness, "POST", "m-2", token=await harness.token())
    started = SubscriptionStarted(subscription_id="sub-1", shop_id=SHOP, member_id="m-2", first_order_id="ord-1",
                                  terms=TERMS, started_on=date(2025, 6, 1), next_cycle_on=date(2025, 7, 1))
    await harness.consumed(await _publish(harness, started, version=1))
    refused = await card(harness, "DELETE", "m-2")
    assert (refused.status_code, refused.json()["reason_code"], refused.json()["subscriptions"]) == (
        409, "active_subscription", ["sub-1"])
    assert refused.headers["content-type"].startswith("application/problem+json")
    canceled = SubscriptionChanged(subscription_id="sub-1", shop_id=SHOP, member_id="m-2", change="canceled",
                                   status="canceled", next_cycle_on=None, terms=TERMS)
    await harness.consumed(await _publish(harness, canceled, version=2))
    assert (await card(harness, "DELETE", "m-2")).status_code == 200
    [member] = await harness.members()
    assert member["status"] == DELETED


async def _publish(h: PaymentHarness, event: SubscriptionStarted | SubscriptionChanged, *, version: int) -> Envelope:
    envelope = Envelope.wrap(event, producer="subscription", correlation_id=event.subscription_id,
                             subject_version=version)
    await h.producer.send_and_wait(h.kafka.topic(event.TOPIC), envelope.to_bytes(), key=event.kafka_key().encode(),
                                   headers=envelope.headers())
    return envelope


@pytest.mark.parametrize(("pan", "spend", "status", "reason"), [
    (VISA, True, 422, "token_spent"), (UNUSABLE, False, 422, "card_declined")])
async def test_a_refused_registration_leaves_no_member(harness: PaymentHarness, pan: str, spend: bool, status: int,
                                                       reason: str) -> None:
    await configured(harness)
    token = await harness.token(pan)
    if spend:
        assert (await card(harness, "POST", "m-other", token=token)).status_code == 201
    refused = await card(harness, "POST", "m-3", token=token)
    body = refused.json()
    assert (refused.status_code, body["reason_code"]) == (status, reason), refused.text
    assert "codes" not in body["change"] and "gateway_operation" not in body["change"] and body["buyer_message"]
    assert await member_at_gateway(harness, await kaiin_ids(harness, "m-3")) == []
    assert (await card(harness, "GET", "m-3")).json()["linked"] is False


async def test_k68_refuses_the_registration_with_r17s_message(database_url, isolated_kafka) -> None:
    off = Merchant(merchant_id="30000003", merchant_pass="shop3pass", token_code="SHOP3TOKEN",
                   member_enabled=False)
    async with payment_harness(database_url, isolated_kafka, seed=5, merchants=[off]) as h:
        await h.put_credentials(merchant_id="30000003", merchant_pass="shop3pass", token_auth_code="SHOP3TOKEN")
        await configured(h)
        response = await h.admin.post("/_emulator/tokens", data={"k_TokenNinsyoCode": "SHOP3TOKEN", "CardNo": VISA,
                                                                 "CardExp": "3012", "SecCd": "123"})
        refused = await card(h, "POST", "m-4", token=response.text.removeprefix("token="))
        assert (refused.status_code, refused.json()["reason_code"], refused.json()["buyer_message"]) == (
            422, "member_function_unavailable", "決済処理エラーが発生しました")
        assert (await card(h, "GET", "m-4")).json()["linked"] is False


async def test_another_shops_member_and_an_unknown_member_get_clear_answers(harness: PaymentHarness) -> None:
    await configured(harness)
    await configured(harness, shop_id="shop-2")
    await harness.put_storefront_key("shop-2", "test-storefront-key-for-shop-2")
    await card(harness, "POST", "m-5", token=await harness.token())
    foreign_key = await card(harness, "GET", "m-5", key="test-storefront-key-for-shop-2")
    own_shop = await card(harness, "DELETE", "m-5", shop_id="shop-2", key="test-storefront-key-for-shop-2")
    unknown = await card(harness, "PUT", "m-nobody", token=await harness.token())
    assert (foreign_key.status_code, own_shop.status_code, own_shop.json()["reason_code"]) == (
        404, 404, "no_registered_card")
    assert (unknown.status_code, unknown.json()["reason_code"]) == (404, "no_registered_card")
    assert (await card(harness, "GET", "m-5", key="")).status_code == 401
    [member] = await harness.members()
    assert member["status"] == VALID  # shop-2's delete touched nothing


async def test_an_operator_sees_linked_and_the_date_never_card_data_and_may_unlink(harness: PaymentHarness) -> None:
    await configured(harness)
    await card(harness, "POST", "m-6", token=await harness.token())
    view = await customer(harness, "GET", "m-6")
    assert (view.json()["linked"], view.json()["linked_at"] is not None) == (True, True)
    assert "4111" not in view.text and "card" not in view.json()
    unlinked = await customer(harness, "DELETE", "m-6")
    assert (unlinked.status_code, unlinked.json()["linked"]) == (200, False), unlinked.text
    [_, event] = await card_events(harness, "m-6", 2)
    assert isinstance(event, CardUnlinked) and (event.source, event.reason) == ("operator", "operator_request")


async def test_an_unknown_replacement_is_answered_202_and_resolved_by_the_next_request(harness: PaymentHarness) -> None:
    await configured(harness)
    await card(harness, "POST", "m-7", token=await harness.token(VISA))
    await harness.faults({"seed": 1, "operations": {"4MemChg": {"reset_after": 1.0}}})
    lost = await card(harness, "PUT", "m-7", token=await harness.token(JCB, "3203"))
    await harness.faults({"seed": 1})
    assert (lost.status_code, lost.json()["change"]["state"]) == (202, "unknown"), lost.text
    assert sample(await scrape(harness.api), "payment_needs_operator", kind="card_change_unknown") == 1
    shown = (await card(harness, "GET", "m-7")).json()
    [member] = await harness.members()
    assert (shown["pending_change"], shown["card"]["masked_card_no"], member["card"]) == (
        None, "3530********0000", "3530********0000")
    events = await card_events(harness, "m-7", 2)
    assert [type(e) for e in events] == [CardLinked, CardReplaced]
    assert (await harness.requests("4MemChg"))["requests"] == 1  # never sent again
    assert sample(await scrape(harness.api), "payment_needs_operator", kind="card_change_unknown") == 0


async def test_a_concurrent_replace_and_checkout_link_leave_the_gateway_and_our_record_agreeing(
        harness: PaymentHarness) -> None:
    await configured(harness)
    await card(harness, "POST", "m-8", token=await harness.token(VISA))
    order = order_placed(member_id="m-8", token=await harness.token(JCB))
    replace_token = await harness.token(MASTERCARD)
    replaced, _ = await asyncio.gather(card(harness, "PUT", "m-8", token=replace_token), harness.publish(order))
    await harness.outcome(order.order_id)
    assert replaced.status_code == 200, replaced.text
    shown = (await card(harness, "GET", "m-8")).json()
    ours = await kaiin_ids(harness, "m-8")
    at_gateway = await member_at_gateway(harness, ours)
    assert len(ours) == 1 and [m["status"] for m in at_gateway] == [VALID]  # one member id, no orphan
    assert at_gateway[0]["card"] == shown["card"]["masked_card_no"]


async def test_the_page_is_refused_until_the_shops_card_method_is_configured(harness: PaymentHarness) -> None:
    refused = await card(harness, "POST", "m-9", token=await harness.token())
    assert (refused.status_code, refused.json()["reason_code"]) == (409, "card_method_not_configured")
    assert await harness.members() == []
