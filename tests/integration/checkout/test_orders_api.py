"""Operators find orders by payment number, status, order date and buyer, and see each order's payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.integration.checkout.harness import authorized, checkout_body
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
TODAY = datetime.now(UTC).astimezone(timezone(timedelta(hours=9))).date()


async def test_operators_search_orders_by_payment_number_status_date_and_buyer(checkout):
    shop = await checkout.configured_shop("tea", show_installments=True)
    hanako = {"buyer__name": "佐藤 花子", "buyer__name_kana": "サトウ ハナコ", "buyer__email": "hanako@example.jp"}
    first = await checkout.placed(shop, checkout_body("chk-a", payment__pay_type="10"))
    second = await checkout.placed(shop, checkout_body("chk-b", **hanako))
    await checkout.publish(authorized(first))
    await eventually(lambda: _completed(checkout, shop), message="first order completed")

    async def search(**params: str) -> list[str]:
        response = await checkout.http.get("/v1/shops/tea/orders", params=params, headers=shop.operator)
        assert response.status_code == 200, response.text
        return [o["checkout_id"] for o in response.json()["orders"]]

    assert await search(payment_number=second["payment_number"]) == ["chk-b"]
    assert await search(status="completed") == ["chk-a"]
    assert await search(buyer="花子") == await search(buyer="HANAKO@") == await search(buyer="サトウ") == ["chk-b"]
    assert await search(**{"from": TODAY.isoformat(), "to": TODAY.isoformat()}) == ["chk-b", "chk-a"]
    assert await search(**{"to": (TODAY - timedelta(days=1)).isoformat()}) == []
    assert await search(buyer="%") == []  # wildcards are matched literally
    view = (await checkout.http.get(f"/v1/shops/tea/orders/{first['order_id']}", headers=shop.operator)).json()
    payment = view["payment"]
    assert (payment["method_name"], payment["payment_number"]) == ("クレジットカード決済", first["payment_number"])
    assert (payment["pay_type"], payment["installments"], payment["status"]) == ("10", "10回払い", "authorized")
    assert view["status"] == "completed" and view["lines"][0]["sku"] == "TEA-1"
    bad = await checkout.http.get("/v1/shops/tea/orders", params={"payment_number": "123"}, headers=shop.operator)
    assert bad.status_code == 422


async def _completed(checkout, shop) -> bool:
    return (await checkout.outcome(shop, "chk-a")).json()["status"] == "completed"
