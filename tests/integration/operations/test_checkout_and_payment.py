"""Checkout and payment together (in-process, real Kafka/PostgreSQL, the emulator): an operator edits an order
in checkout, payment refuses the stale capture, the update moves the hold, the capture records the new total,
and checkout's order view follows every step (R12, design §6.5). In the window between checkout's commit of an
edit and payment's consumption of its `OrderAmountChanged`, a capture or update that names the total its sender
saw is refused (`order_total_stale`) and nothing reaches the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from emulator.testing import RunningEmulator, serve_emulator
from services.checkout.app import create_app as create_checkout
from services.checkout.settings import CheckoutSettings
from services.payment.app import create_app as create_payment
from tests.integration.checkout.harness import ADMIN_TOKEN, CARD_SETTINGS, CARRIERS, checkout_body
from tests.integration.payment.conftest import settings_for
from tests.integration.payment.support import DEMO, INTERNAL_TOKEN
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
KEY = {"X-Operator-Key": "operator-key-of-the-tea-shop"}


@dataclass(kw_only=True)
class System:
    checkout: httpx.AsyncClient
    payment: httpx.AsyncClient
    emulator: RunningEmulator
    payment_database: str

    async def order(self, order_id: str) -> dict[str, Any]:
        return (await self.checkout.get(f"/v1/shops/tea/orders/{order_id}", headers=KEY)).json()

    async def payment_view(self, order_id: str) -> dict[str, Any]:
        return (await self.payment.get(f"/v1/shops/tea/payments/{order_id}", params={"live": "false"},
                                       headers=KEY)).json()

    async def operate(self, order_id: str, operation: str, **body: Any) -> httpx.Response:
        return await self.payment.post(f"/v1/shops/tea/payments/{order_id}/{operation}", json=body, headers=KEY)


@pytest.fixture
async def system(new_database, isolated_kafka) -> AsyncIterator[System]:
    async with serve_emulator(seed=9) as emulator:
        payment_database = await new_database()
        payment_app = create_payment(settings_for(payment_database, isolated_kafka, emulator.url))
        to_payment = httpx.ASGITransport(app=payment_app)
        checkout_app = create_checkout(CheckoutSettings(
            database_url=await new_database(), kafka=isolated_kafka, admin_token=ADMIN_TOKEN,
            payment_url="http://payment", payment_internal_token=INTERNAL_TOKEN), payment_transport=to_payment)
        async with (payment_app.router.lifespan_context(payment_app),
                    checkout_app.router.lifespan_context(checkout_app),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=checkout_app), base_url="http://c") as c,
                    httpx.AsyncClient(transport=to_payment, base_url="http://payment") as p):
            yield System(checkout=c, payment=p, emulator=emulator, payment_database=payment_database)


async def shop_with_card(system: System) -> dict[str, str]:
    created = await system.checkout.post("/admin/v1/shops", headers={"X-Admin-Token": ADMIN_TOKEN}, json={
        "shop_id": "tea", "shop_name": "お茶の店", "operator_key": KEY["X-Operator-Key"],
        "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}})
    assert created.status_code == 201, created.text
    for method, path, body in (("POST", "/payment-methods", {"method": "escott_card"}),
                               ("PUT", "/payment-methods/escott_card", CARD_SETTINGS),
                               ("PUT", "/carriers", CARRIERS), ("PUT", "/gateway-credentials", DEMO)):
        response = await system.checkout.request(method, f"/v1/shops/tea{path}", json=body, headers=KEY)
        assert response.status_code in (200, 204), (path, response.text)
    return {"X-Storefront-Key": created.json()["storefront_key"]}


async def completed_order(system: System, checkout_id: str) -> str:
    """A storefront checkout with a fresh card token, completed (authorized, not captured): its order id."""
    storefront = await shop_with_card(system)
    form = {"k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": "4111111111111111", "CardExp": "3012"}
    async with httpx.AsyncClient(base_url=system.emulator.url) as emulator:
        token = (await emulator.post("/_emulator/tokens", data=form)).text.removeprefix("token=")
    body = checkout_body(checkout_id, payment__token=token)
    outcome = (await system.checkout.post("/v1/checkouts", params={"wait": 20}, json=body,
                                          headers=storefront)).json()
    assert outcome["status"] == "completed", outcome
    return str(outcome["order_id"])


async def test_an_edited_order_is_captured_only_after_the_update_and_checkout_shows_the_new_total(
        system: System) -> None:
    order_id = await completed_order(system, "chk-edit")

    edit = {"lines": [{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 4}]}
    assert (await system.checkout.patch(f"/v1/shops/tea/orders/{order_id}", json=edit, headers=KEY)).is_success

    async def payment_knows() -> bool:
        return (await system.payment_view(order_id))["update_required"] is True

    await eventually(payment_knows, message="payment learned the new order total")
    refused = await system.operate(order_id, "capture")
    assert (refused.status_code, refused.json()["reason_code"]) == (409, "update_required")
    assert (await system.operate(order_id, "update-amount")).status_code == 200
    captured = await system.operate(order_id, "capture")
    assert captured.status_code == 200, captured.text
    assert captured.json()["payment"]["captured_amount"] == 5600

    async def checkout_follows() -> dict[str, Any] | None:
        payment = (await system.order(order_id))["payment"]
        return payment if payment["status"] == "captured" else None

    payment = await eventually(checkout_follows, message="checkout's order view shows the capture")
    assert (payment["amount"], payment["update_required"]) == (5600, False)


@asynccontextmanager
async def order_totals_held(payment_database: str) -> AsyncIterator[asyncpg.Connection]:
    """Payment's consumer cannot apply an event while this is open: every event's inbox claim waits for the
    SHARE lock on `inbox` (an HTTP operation claims nothing there). Yields the lock's connection."""
    conn = await asyncpg.connect(payment_database)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE inbox IN SHARE MODE")
            yield conn
    finally:
        await conn.close()


async def test_in_the_window_before_payment_hears_of_an_edit_a_capture_naming_the_new_total_is_refused(
        system: System) -> None:
    order_id = await completed_order(system, "chk-window")
    before = await system.payment_view(order_id)
    edit = {"lines": [{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 4}]}
    async with order_totals_held(system.payment_database) as held:
        edited = await system.checkout.patch(f"/v1/shops/tea/orders/{order_id}", json=edit, headers=KEY)
        assert edited.status_code == 200, edited.text
        total = edited.json()["amount"]
        assert total != before["order_total"] and (await system.order(order_id))["amount"] == total

        async def event_waits_for_the_inbox() -> bool:  # the edit's event reached payment, which cannot apply it
            return bool(await held.fetchval(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'inbox'::regclass AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"))

        await eventually(event_waits_for_the_inbox, message="payment's consumer has the edit and waits")
        refused = [await system.operate(order_id, operation, order_total=total)
                   for operation in ("capture", "update-amount")]
        for answer in refused:
            assert answer.status_code == 409, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert (answer.json()["reason_code"], answer.json()["result"]) == ("order_total_stale", "refused")
        during = await system.payment_view(order_id)
        assert (during["state"], during["order_total"], during["held_amount"]) == (
            "authorized", before["order_total"], before["held_amount"])
        assert during["history"] == before["history"]  # every gateway call is recorded before it is sent: none

    async def payment_has_the_edit() -> bool:
        return (await system.payment_view(order_id))["order_total"] == total

    await eventually(payment_has_the_edit, message="payment applied the edit once the window closed")
    assert (await system.operate(order_id, "capture", order_total=total)).json()["reason_code"] == "update_required"
    assert (await system.operate(order_id, "update-amount", order_total=total)).status_code == 200
    captured = await system.operate(order_id, "capture", order_total=total)
    assert captured.status_code == 200, captured.text
    assert captured.json()["payment"]["captured_amount"] == total


async def test_a_declined_operation_shows_on_checkouts_order_view_with_the_raw_code(system: System) -> None:
    order_id = await completed_order(system, "chk-k12")
    async with httpx.AsyncClient(base_url=system.emulator.url) as emulator:  # past the transaction's lifetime
        (await emulator.post("/_emulator/clock", json={"advance_seconds": 401 * 86400})).raise_for_status()
    declined = await system.operate(order_id, "cancel")
    assert (declined.status_code, declined.json()["codes"]) == (422, ["K12"]), declined.text

    async def checkout_shows_the_failure() -> dict[str, Any] | None:
        view = await system.order(order_id)
        return view if view["payment"]["failed_operation"] else None

    view = await eventually(checkout_shows_the_failure, message="checkout's order view shows the failed cancel")
    failed = view["payment"]["failed_operation"]
    assert (failed["operation"], failed["outcome"], failed["gateway_operation"]) == ("cancel", "declined", "1Delete")
    [code] = failed["codes"]
    assert code["code"] == "K12" and code["description"]  # the Japanese text of the code table
    assert declined.json()["descriptions"][0].startswith(code["description"])
    assert (view["status"], view["payment"]["status"]) == ("completed", "authorized")  # nothing moved
