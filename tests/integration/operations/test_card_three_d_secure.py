"""EMV 3-D Secure on the member's card page (design §6.8) against the emulator: with the shop's 3-D Secure on, a
register or replace answers action_required with the OTDS010 form (inner 4MemAdd/4MemChg), the browser (plain
HTTP) goes through the gateway, and payment's public return finishes the change once: a frictionless card is
linked (and read back), a failed authentication stores nothing, a replayed return is harmless and a forged one is
refused. (Late returns and the deadline: tests/unit/payment/test_card_authentication_model.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.operations.three_d_secure_support import CHALLENGE, GatewayReturn, TdsSystem, tds_system
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
CARD_PAGE = "https://tea.example.jp/mypage/card"
CARD_COMPANY = "クレジットカード会社にお問い合わせください"
FAILS = "4000000000003238"
"""The emulator's test card whose authentication fails (SecureResultCode 1, U04)."""


async def test_cards_registered_and_replaced_through_3ds_are_linked_once_and_failures_store_nothing(
        new_database, isolated_kafka) -> None:
    async with tds_system(new_database, isolated_kafka) as system, httpx.AsyncClient(
            base_url=system.payment_url, headers=system.storefront) as payment:
        await _card_page_ready(payment)

        asked = await _change(payment, system, method="POST", member="m-1", pan="4111111111111111")
        assert (asked["result"], asked["change"]["state"], asked["linked"]) == (
            "action_required", "awaiting_authentication", False)
        action = asked["action"]
        assert (action["method"], action["url"]) == ("POST", f"{system.emulator.url}/online/tds/OTDS010.do")
        assert set(action["fields"]) == {"MerchantId", "EncryptValue"} and asked["authentication_deadline"]
        busy = await _change(payment, system, method="PUT", member="m-1", pan="5555555555554444", expect=409)
        assert busy["reason_code"] == "card_authentication_pending"  # one change at a time, none started

        change_id = asked["change"]["change_id"]
        back = await system.through_gateway(action)
        assert back.url == f"{system.payment_url}/public/v1/three-d-secure/cards/{change_id}/return"
        returned = await system.send_back(back)
        assert returned.status_code == 303
        assert returned.headers["location"] == f"{CARD_PAGE}?change_id={change_id}&result=done"
        card = await _card(payment, "m-1")
        assert card["linked"] and card["card"]["masked_card_no"] == "4111********1111"

        again = await system.send_back(back)  # the back button: harmless, redirected like the first
        assert again.status_code == 303 and again.headers["location"] == returned.headers["location"]
        forged = await system.send_back(GatewayReturn(back.url, back.encrypt_value[:-8] + "AAAAAAA="))
        assert (forged.status_code, forged.json()["reason_code"]) == (400, "authentication_return_invalid")
        assert (await _changed(payment, "m-1", change_id))["state"] == "done"

        replaced = await _through(payment, system, method="PUT", member="m-1", pan="5555555555554444")
        assert replaced.headers["location"].endswith("&result=done")
        assert (await _card(payment, "m-1"))["card"]["masked_card_no"] == "5555********4444"

        refused = await _change(payment, system, method="POST", member="m-2", pan=FAILS)
        failed = await system.send_back(await system.through_gateway(refused["action"]))
        failed_id = refused["change"]["change_id"]
        assert failed.headers["location"] == f"{CARD_PAGE}?change_id={failed_id}&result=failed"
        shown = await _changed(payment, "m-2", failed_id)
        assert (shown["state"], shown["reason_code"], shown["buyer_message"]) == (
            "failed", "authentication_failed", CARD_COMPANY)
        assert (await _card(payment, "m-2"))["linked"] is False

        wrong = await _change(payment, system, method="PUT", member="m-1", pan=CHALLENGE)  # a wrong one-time code
        assert (await system.send_back(await system.through_gateway(wrong["action"], code="000000"))).status_code == 303
        assert (await _changed(payment, "m-1", wrong["change"]["change_id"]))["reason_code"] == "authentication_failed"
        assert (await _card(payment, "m-1"))["card"]["masked_card_no"] == "5555********4444"  # the card it had


async def _card_page_ready(payment: httpx.AsyncClient) -> None:
    """Payment learns the shop (settings, storefront key) from checkout over Kafka."""
    async def ready() -> bool:
        return (await payment.get("/v1/shops/tea/members/m-1/card")).status_code == 200

    await eventually(ready, timeout=30, message="the card page is available")


async def _change(payment: httpx.AsyncClient, system: TdsSystem, *, method: str, member: str, pan: str,
                  expect: int = 200) -> dict[str, Any]:
    body = {"token": await system.token(pan), "return_url": CARD_PAGE}
    response = await payment.request(method, f"/v1/shops/tea/members/{member}/card", json=body)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def _through(payment: httpx.AsyncClient, system: TdsSystem, *, method: str, member: str,
                   pan: str) -> httpx.Response:
    asked = await _change(payment, system, method=method, member=member, pan=pan)
    returned = await system.send_back(await system.through_gateway(asked["action"]))
    assert returned.status_code == 303, returned.text
    return returned


async def _card(payment: httpx.AsyncClient, member: str) -> dict[str, Any]:
    response = await payment.get(f"/v1/shops/tea/members/{member}/card")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _changed(payment: httpx.AsyncClient, member: str, change_id: str) -> dict[str, Any]:
    response = await payment.get(f"/v1/shops/tea/members/{member}/card/changes/{change_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data
