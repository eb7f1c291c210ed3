"""EMV 3-D Secure in a real browser (design §6.7): headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright, on a tiny storefront of its own origin. The page mints a token with the token script, the storefront's
server posts the checkout and auto-submits the `action_required` form, the buyer answers the emulator's challenge
(or fails it, or closes the tab), the gateway's return goes through payment back to the storefront, which shows the
outcome. Skipped without the browser (`emulator/install-browser.sh`)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from emulator.testing import bind_socket, start_runner
from tests.browser import CHROMIUM, needs_chromium
from tests.integration.checkout.harness import checkout_body
from tests.integration.operations.three_d_secure_support import CHALLENGE, TdsSystem, tds_system

pytestmark = [pytest.mark.kafka, pytest.mark.postgres,
              needs_chromium]
CARD_COMPANY = "クレジットカード会社にお問い合わせください"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>checkout</title>
<script src="{emulator}/euser/stn/CdGetJavaScript.do?k_TokenNinsyoCode=DEMOTOKEN0001"
        callBackFunc="setToken" class="spsvToken"></script>
<script>
  function setToken(token, card) {{ document.getElementById("token").value = token; document.forms.order.submit(); }}
  function startPayment() {{ SpsvApi.spsvCreateToken("{pan}", "30", "12", "123", "", "", "", "", ""); }}
</script></head><body>
<form name="order" method="post" action="/pay"><input type="hidden" id="token" name="token">
<input type="hidden" name="checkout_id" value="{checkout_id}"></form>
<button id="pay" onclick="startPayment()">注文する</button></body></html>"""


@asynccontextmanager
async def storefront(system: TdsSystem) -> AsyncIterator[str]:
    """The shop: its page, and its server that talks to checkout with the storefront key (never the browser)."""
    base = ""

    async def page(request: web.Request) -> web.Response:
        text = PAGE.format(emulator=system.emulator.url, pan=request.query["pan"],
                           checkout_id=request.query["checkout_id"])
        return web.Response(text=text, content_type="text/html")

    async def pay(request: web.Request) -> web.Response:
        form = await request.post()
        checkout_id = str(form["checkout_id"])
        body = checkout_body(checkout_id, payment__token=str(form["token"]), buyer__member_id=None,
                             payment__keep_card=None, return_url=f"{base}/done?checkout_id={checkout_id}")
        outcome: dict[str, Any] = (await system.checkout.post("/v1/checkouts", params={"wait": 20}, json=body,
                                                              headers=system.storefront)).json()
        action = outcome["action"]  # action_required: send the browser to the gateway
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in action["fields"].items())
        return web.Response(content_type="text/html", text=(
            '<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(action["url"])}">{fields}</form></body></html>'))

    async def done(request: web.Request) -> web.Response:
        outcome = await system.outcome(request.query["checkout_id"], wait=20)
        return web.Response(content_type="text/html", text=(
            f'<!doctype html><html><body><p id="status">{outcome["status"]}</p>'
            f'<p id="message">{html.escape(outcome.get("buyer_message") or "")}</p>'
            f'<p id="order">{request.query.get("order_id", "")}</p></body></html>'))

    app = web.Application()
    app.router.add_get("/checkout", page)
    app.router.add_post("/pay", pay)
    app.router.add_get("/done", done)
    sock = bind_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    runner = await start_runner(app, sock)
    try:
        yield base
    finally:
        await runner.cleanup()


async def test_3ds_challenge_in_chromium_completes_fails_and_is_abandoned(new_database, isolated_kafka) -> None:
    from playwright.async_api import async_playwright

    async with (tds_system(new_database, isolated_kafka, window_s=10.0) as system, storefront(system) as shop,
                async_playwright() as playwright):
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.goto(f"{shop}/checkout?pan={CHALLENGE}&checkout_id=chk-browser-ok")
            await page.click("#pay")
            await page.wait_for_selector("#one-time-code", timeout=20_000)  # the issuer's challenge
            await page.fill("#code", await page.inner_text("#one-time-code"))
            await page.click("#submit")
            await page.wait_for_selector("#status", timeout=30_000)
            assert await page.inner_text("#status") == "completed"
            order_id = await page.inner_text("#order")
            outcome = await system.outcome("chk-browser-ok")
            assert outcome["order_id"] == order_id
            (tx,) = await system.ledger(outcome["payment_number"])
            assert [op["operate_id"] for op in tx["history"]] == ["1Auth"]
            assert tx["three_d_secure"]["SecureResultCode"] == "0" and tx["three_d_secure"]["ECI3D"] == "05"

            await page.goto(f"{shop}/checkout?pan={CHALLENGE}&checkout_id=chk-browser-wrong")
            await page.click("#pay")
            await page.wait_for_selector("#one-time-code", timeout=20_000)
            await page.fill("#code", "000000")
            await page.click("#submit")
            await page.wait_for_selector("#status", timeout=30_000)
            assert (await page.inner_text("#status"), await page.inner_text("#message")) == ("rejected", CARD_COMPANY)

            await page.goto(f"{shop}/checkout?pan={CHALLENGE}&checkout_id=chk-browser-gone")
            await page.click("#pay")
            await page.wait_for_selector("#one-time-code", timeout=20_000)
            await page.close()  # the buyer closes the tab on the challenge
        finally:
            await browser.close()
        gone = await system.final("chk-browser-gone")
        assert (gone["status"], gone["reason_code"]) == ("rejected", "authentication_abandoned")
        assert await system.ledger(gone["payment_number"]) == []
