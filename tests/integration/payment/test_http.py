"""The HTTP edges: internal token, write-only credentials, the shops.settings projection."""

from __future__ import annotations

import asyncpg
import pytest

from contracts.events import ShopSettingsChanged
from contracts.events.shops import CardMethodSettings, MailSettings
from tests.integration.payment.support import DEMO, INTERNAL_TOKEN, SHOP, PaymentHarness
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
CREDENTIALS = f"/internal/v1/shops/{SHOP}/gateway-credentials"


async def test_internal_endpoints_need_the_internal_token(harness: PaymentHarness) -> None:
    for headers in ({}, {"X-Internal-Token": "wrong"}):
        response = await harness.api.put(CREDENTIALS, json=DEMO, headers=headers)
        assert response.status_code == 401
        card = await harness.api.get(f"/internal/v1/shops/{SHOP}/members/m-1/card", headers=headers)
        assert card.status_code == 401


async def test_credentials_are_write_only_and_invalid_input_is_refused_without_echoing_it(
        harness: PaymentHarness) -> None:
    headers = {"X-Internal-Token": INTERNAL_TOKEN}
    too_long = "p" * 19 + "SECRETTAIL"
    response = await harness.api.put(CREDENTIALS, json={**DEMO, "merchant_pass": too_long}, headers=headers)
    assert response.status_code == 422 and "merchant_pass" in response.text
    assert "SECRETTAIL" not in response.text
    assert (await harness.api.get(CREDENTIALS, headers=headers)).status_code == 405


async def test_an_operator_key_opens_only_its_own_shops_payments(harness: PaymentHarness) -> None:
    await harness.put_operator_key("shop-2", "key-of-shop-2")
    assert (await harness.payment("ord-none")).status_code == 404  # own shop, no such payment
    assert (await harness.payment("ord-none", shop_id="shop-2")).status_code == 404  # shop-1's key on shop-2
    missing = await harness.api.get(f"/v1/shops/{SHOP}/payments/ord-none")
    assert missing.status_code == 401


async def test_shop_settings_snapshots_are_kept_as_a_local_projection(harness: PaymentHarness) -> None:
    card = CardMethodSettings(configured=True, display_name="カード", sales_mode="auth_capture",
                              card_link_mode="never")
    mail = MailSettings(sender_address="shop@example.jp", shop_copy_address="orders@example.jp")
    await harness.publish(ShopSettingsChanged(shop_id=SHOP, shop_name="デモ", mail=mail, card=card))

    async def projected() -> asyncpg.Record | None:
        conn = await asyncpg.connect(harness.database_url)
        try:
            return await conn.fetchrow("SELECT * FROM shop_settings WHERE shop_id = $1", SHOP)
        finally:
            await conn.close()

    row = await eventually(projected, message="settings projected")
    assert (row["configured"], row["sales_mode"], row["card_link_mode"]) == (True, "auth_capture", "never")
