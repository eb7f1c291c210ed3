"""Checkout and payment with EMV 3-D Secure on (design §6.7), against the emulator: payment served on a real socket
(the gateway sends the buyer's browser back to it), checkout in-process; and a plain-HTTP "browser" that follows
the `action_required` form through the emulator's challenge, for the tests that need no Chromium."""

from __future__ import annotations

import asyncio
import html
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from emulator.testing import RunningEmulator, serve_emulator
from services.checkout.app import create_app as create_checkout
from services.checkout.settings import CheckoutSettings
from services.payment.app import create_app as create_payment
from tests.integration.checkout.harness import ADMIN_TOKEN, CARD_SETTINGS, CARRIERS, checkout_body
from tests.integration.payment.conftest import settings_for
from tests.integration.payment.support import DEMO, INTERNAL_TOKEN
from tests.waiting import eventually

KEY = {"X-Operator-Key": "operator-key-of-the-tea-shop"}
TDS_KEYS = {"three_d_secure_key": "DEMO3DSKEY000001", "three_d_secure_iv": "DEMO3DSIV0000001"}
CHALLENGE = "4000000000003220"


@dataclass
class GatewayReturn:
    """The emulator's auto-submitted return: where it posts and the encrypted result."""

    url: str
    encrypt_value: str


@dataclass(kw_only=True)
class TdsSystem:
    checkout: httpx.AsyncClient
    payment_url: str
    emulator: RunningEmulator
    storefront: dict[str, str]

    async def token(self, pan: str) -> str:
        form = {"k_TokenNinsyoCode": "DEMOTOKEN0001", "CardNo": pan, "CardExp": "3012", "SecCd": "123"}
        async with httpx.AsyncClient(base_url=self.emulator.url) as emulator:
            return (await emulator.post("/_emulator/tokens", data=form)).text.removeprefix("token=")

    async def submit(self, checkout_id: str, *, pan: str = "4111111111111111", **changes: Any) -> dict[str, Any]:
        body = checkout_body(checkout_id, payment__token=await self.token(pan), **changes)
        response = await self.checkout.post("/v1/checkouts", params={"wait": 20}, json=body, headers=self.storefront)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def outcome(self, checkout_id: str, *, wait: float = 20, until: str = "final") -> dict[str, Any]:
        response = await self.checkout.get(f"/v1/checkouts/{checkout_id}", params={"wait": wait, "until": until},
                                           headers=self.storefront)
        data: dict[str, Any] = response.json()
        return data

    async def through_gateway(self, action: dict[str, Any], *, code: str | None = "right",
                              cancel: bool = False) -> GatewayReturn:
        """What the buyer's browser does: post the form, answer a challenge (the code on the page, or `code`)."""
        async with httpx.AsyncClient() as browser:
            page = await browser.post(action["url"], data=action["fields"])
            shown = re.search(r'id="one-time-code">(\d{6})<', page.text)
            if shown is not None:
                answer = {"session": _hidden(page.text, "session"),
                          "code": shown.group(1) if code == "right" else (code or "")}
                page = await browser.post(f"{self.emulator.url}/online/tds/challenge.do",
                                          data={**answer, **({"cancel": "1"} if cancel else {})})
        target = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert target is not None, page.text
        return GatewayReturn(html.unescape(target.group(1)), _hidden(page.text, "EncryptValue"))

    async def send_back(self, back: GatewayReturn) -> httpx.Response:
        """The auto-submitted return reaching payment's public endpoint (not following the 303)."""
        async with httpx.AsyncClient() as browser:
            return await browser.post(back.url, data={"EncryptValue": back.encrypt_value})

    async def configure(self, three_d_secure: dict[str, Any]) -> None:
        """The operator changes the shop's 3-D Secure setting (new orders follow it)."""
        card = {**CARD_SETTINGS, "three_d_secure": three_d_secure}
        response = await self.checkout.put("/v1/shops/tea/payment-methods/escott_card", json=card, headers=KEY)
        assert response.status_code == 200, response.text

    async def ledger(self, payment_number: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.emulator.url) as emulator:
            found: list[dict[str, Any]] = (await emulator.get("/_emulator/transactions",
                                                               params={"MerchantFree1": payment_number})).json()
            return found

    async def final(self, checkout_id: str) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            outcome = await self.outcome(checkout_id, wait=5)
            return outcome if outcome["final"] else None

        return await eventually(done, timeout=30, message=f"{checkout_id} final")


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page
    return html.unescape(found.group(1))


@asynccontextmanager
async def served(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """An ASGI app on `sock`, its lifespan run by uvicorn."""
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async def started() -> bool:
            if task.done():
                task.result()
            return server.started

        await eventually(started, timeout=60, message="payment listening")
        yield
    finally:
        server.should_exit = True
        async with asyncio.timeout(30):
            await task
        sock.close()


@asynccontextmanager
async def tds_system(new_database: Any, kafka: Any, *, window_s: float = 60.0,
                     three_d_secure: dict[str, Any] | None = None, card_window_s: float = 900.0,
                     ) -> AsyncIterator[TdsSystem]:
    """Checkout + payment + emulator, one shop (`tea`) with 3-D Secure on and the demo merchant's key/IV."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    payment_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with serve_emulator(seed=23) as emulator:
        payment_app = create_payment(settings_for(await new_database(), kafka, emulator.url, public_url=payment_url,
                                                  authentication_sweep_s=0.1,
                                                  card_authentication_window_s=card_window_s))
        checkout_app = create_checkout(CheckoutSettings(
            database_url=await new_database(), kafka=kafka, admin_token=ADMIN_TOKEN, payment_url=payment_url,
            payment_internal_token=INTERNAL_TOKEN, authentication_window_s=window_s))
        async with (served(payment_app, sock), checkout_app.router.lifespan_context(checkout_app),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=checkout_app), base_url="http://c") as c):
            storefront = await _shop(c, three_d_secure or {"enabled": True})
            yield TdsSystem(checkout=c, payment_url=payment_url, emulator=emulator, storefront=storefront)


async def _shop(checkout: httpx.AsyncClient, three_d_secure: dict[str, Any]) -> dict[str, str]:
    created = await checkout.post("/admin/v1/shops", headers={"X-Admin-Token": ADMIN_TOKEN}, json={
        "shop_id": "tea", "shop_name": "お茶の店", "operator_key": KEY["X-Operator-Key"],
        "mail": {"sender_address": "info@tea.example.jp", "shop_copy_address": "orders@tea.example.jp"}})
    assert created.status_code == 201, created.text
    card = {**CARD_SETTINGS, "three_d_secure": three_d_secure}
    for method, path, body in (("POST", "/payment-methods", {"method": "escott_card"}),
                               ("PUT", "/payment-methods/escott_card", card),
                               ("PUT", "/carriers", CARRIERS), ("PUT", "/gateway-credentials", {**DEMO, **TDS_KEYS})):
        response = await checkout.request(method, f"/v1/shops/tea{path}", json=body, headers=KEY)
        assert response.status_code in (200, 204), (path, response.text)
    return {"X-Storefront-Key": created.json()["storefront_key"]}
