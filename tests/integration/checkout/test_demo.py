"""`python -m deploy.local.demo_shop` seeds the configured demo shops (3-D Secure off and on), idempotently; the
example order is valid."""

from __future__ import annotations

import pytest

from deploy.local import demo_shop as demo
from tests.integration.checkout.harness import ADMIN_TOKEN

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_the_demo_shop_is_seeded_idempotently_and_its_example_order_is_accepted(checkout, payment_stub):
    assert await demo.seed(checkout.http, ADMIN_TOKEN) is True
    assert await demo.seed(checkout.http, ADMIN_TOKEN) is False
    assert payment_stub.credentials == {"demo-shop": demo.CREDENTIALS, "demo-shop-3ds": demo.CREDENTIALS}
    settings = await checkout.http.get("/v1/shops/demo-shop/settings", headers={"X-Operator-Key": "demo-operator-key"})
    method = settings.json()["payment_methods"][0]
    assert (method["configured"], method["sales_mode"], method["show_installments"]) == (True, "auth", True)
    assert method["card_link_mode"] == "always"
    assert [c["accepts_card"] for c in settings.json()["carriers"]] == [True, False]
    body = demo.example_body("demo-1", "tok0123456789abcdef")
    response = await checkout.http.post("/v1/checkouts", json=body, headers={"X-Storefront-Key": "demo-storefront-key"})
    assert response.status_code == 202, response.text
    three_ds = await checkout.http.get("/v1/shops/demo-shop-3ds/settings",
                                       headers={"X-Operator-Key": demo.THREE_DS_OPERATOR_KEY})
    assert three_ds.json()["payment_methods"][0]["three_d_secure"]["enabled"] is True
    assert method["three_d_secure"]["enabled"] is False  # the curl demo's shop: no browser to authenticate in
    command = demo.order_command("http://127.0.0.1:8001", "http://127.0.0.1:8899")
    assert "\n" not in command and "demo-storefront-key" in command and "/_emulator/tokens" in command


async def test_seeding_fails_clearly_with_a_wrong_admin_token(checkout):
    with pytest.raises(demo.SeedError, match="HTTP 401"):
        await demo.seed(checkout.http, "wrong-token")
