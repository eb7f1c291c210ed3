"""The token script in a real browser: headless Chromium (Debian package) driven by Playwright.

Install the browser with ``emulator/install-browser.sh``; without /usr/bin/chromium this test is skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from pydantic import SecretStr

from emulator.testing import bind_socket, start_runner
from services.payment.adapters.escott import TokenSource
from tests.browser import CHROMIUM, needs_chromium
from tests.integration.escott.conftest import DEMO, Harness

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>checkout</title>
<script type="text/javascript" src="{emulator}/euser/stn/CdGetJavaScript.do?k_TokenNinsyoCode=DEMOTOKEN0001"
        callBackFunc="setToken" class="spsvToken"></script>
<script>
  function setToken(token, card) {{ window.receivedToken = token; window.receivedCard = card; }}
  function pay() {{ SpsvApi.spsvCreateToken("4111111111111111", "30", "12", "123", "", "", "", "", ""); }}
</script></head><body><button id="pay" onclick="pay()">pay</button></body></html>"""

pytestmark = [pytest.mark.browser,
              needs_chromium]


@asynccontextmanager
async def shop_page(emulator_url: str) -> AsyncIterator[str]:
    """A tiny storefront on another origin than the emulator, serving the checkout page."""
    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE.format(emulator=emulator_url), content_type="text/html")

    app = web.Application()
    app.router.add_get("/checkout", page)
    sock = bind_socket("127.0.0.1", 0)
    runner = await start_runner(app, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/checkout"
    finally:
        await runner.cleanup()


async def test_browser_token_is_usable_once_then_ki2(harness: Harness) -> None:
    from playwright.async_api import async_playwright

    async with shop_page(harness.emulator.url) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.goto(url)
            await page.click("#pay")
            await page.wait_for_function("window.receivedToken !== undefined", timeout=15_000)
            token = await page.evaluate("window.receivedToken")
            card = await page.evaluate("window.receivedCard")
        finally:
            await browser.close()
    assert token and card["ResponseCd"] == "OK" and card["cardNo"] == "4111********1111"
    source = TokenSource(SecretStr(token))
    assert (await harness.gateway.authorize(DEMO, source, amount=1980)).ok
    assert (await harness.gateway.authorize(DEMO, source, amount=1980)).codes == ("KI2",)
