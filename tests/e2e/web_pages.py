"""Playwright helpers for the console and storefront tests: one Chromium per module, pages that fail a test on
any server error, screenshots into docs/screens/ and the shop's operator key checked absent from every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.local import demo_shop as demo

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "docs" / "screens"
TEST_CARD, G12_CARD, CHALLENGE_CARD = "4111111111111111", "4000000000000002", "4000000000003220"
CARD_COMPANY = "クレジットカード会社にお問い合わせください"
SHOP_MESSAGE = "ショップ様にお問い合わせください"
# The storefront sells for the demo shop with 3-D Secure on; its operator logs in with these
STOREFRONT_SHOP = {"shop_id": demo.THREE_DS_SHOP_ID, "key": demo.THREE_DS_OPERATOR_KEY}
OUTCOME = "#outcome[data-status=completed], #outcome[data-status=rejected]"


async def shot(page: Any, name: str) -> None:
    """A full-page screenshot of a main screen for the README (the same run as the assertions)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


async def no_key_in(page: Any, key: str = demo.OPERATOR_KEY) -> None:
    """The operator key is never in the URL or the page source."""
    assert key not in page.url
    assert key not in await page.content()


async def console_login(page: Any, console_url: str, *, shop_id: str = demo.SHOP_ID,
                        key: str = demo.OPERATOR_KEY) -> None:
    await page.goto(f"{console_url}/login")
    await page.fill("input[name=shop_id]", shop_id)
    await page.fill("input[name=operator_key]", key)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{console_url}/")


async def storefront_order(page: Any, storefront_url: str, *, card: str = TEST_CARD, sku: str = "TEA-001",
                           screens: bool = False) -> str:
    """Buy one product as a guest through the three steps and 3-D Secure (frictionless for every card but the
    challenge cards); the outcome page's status."""
    await storefront_card_step(page, storefront_url, sku=sku, screens=screens)
    await pay_with(page, card, screens=screens)
    return await outcome(page)


async def storefront_card_step(page: Any, storefront_url: str, *, sku: str = "TEA-001", screens: bool = False) -> None:
    """Product → cart → buyer and shipping → the card page."""
    await page.goto(storefront_url + "/")
    if screens:
        await shot(page, "storefront-products")
    await page.click(f"#product-{sku} button[type=submit]")
    await page.wait_for_url(f"{storefront_url}/cart")
    await page.click("#to-buyer")
    await page.fill("input[name=name]", "山田 太郎")
    await page.fill("input[name=name_kana]", "ヤマダ タロウ")
    await page.fill("input[name=email]", "taro@example.jp")
    await page.fill("input[name=postal_code]", "100-0001")
    await page.fill("input[name=prefecture]", "東京都")
    await page.fill("input[name=city]", "千代田区")
    await page.fill("input[name=address_line1]", "千代田1-1")
    await page.click("#to-card")
    await page.wait_for_url(f"{storefront_url}/checkout/card")


async def fill_card(page: Any, card: str) -> None:
    await page.fill("#card-number", card)
    await page.fill("#card-exp-month", "12")
    await page.fill("#card-exp-year", "30")
    await page.fill("#card-cvc", "123")


async def pay_with(page: Any, card: str, *, screens: bool = False) -> None:
    await fill_card(page, card)
    if screens:
        await shot(page, "storefront-card")
    await page.click("#pay")


async def outcome(page: Any, *, timeout_s: float = 60) -> str:
    """The outcome page's status once final (after 3-D Secure: the return page, which waits for the charge)."""
    await page.wait_for_selector(OUTCOME, timeout=timeout_s * 1000)
    return str(await page.get_attribute("#outcome", "data-status"))


async def challenge(page: Any, *, code: str | None = None, screens: str = "") -> None:
    """The emulator's 3-D Secure challenge: the one-time code it shows (or `code`), then 送信."""
    await page.wait_for_selector("#one-time-code", timeout=40_000)
    if screens:
        await shot(page, screens)
    await page.fill("#code", code if code is not None else (await page.inner_text("#one-time-code")).strip())
    await page.click("#submit")
