"""Playwright helpers for the console and storefront tests: one Chromium per module, pages that fail a test on
any server error, screenshots into docs/screens/ and the shop's operator key checked absent from every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.local import demo_shop as demo

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "docs" / "screens"
CHROMIUM = Path("/usr/bin/chromium")
TEST_CARD, G12_CARD = "4111111111111111", "4000000000000002"
CARD_COMPANY = "クレジットカード会社にお問い合わせください"


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
    """Buy one product as a guest through the three steps; the outcome page's status."""
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
    await page.fill("#card-number", card)
    await page.fill("#card-exp-month", "12")
    await page.fill("#card-exp-year", "30")
    await page.fill("#card-cvc", "123")
    if screens:
        await shot(page, "storefront-card")
    await page.click("#pay")
    await page.wait_for_url(f"{storefront_url}/checkout/result", timeout=40_000)
    await page.wait_for_selector("#outcome[data-status=completed], #outcome[data-status=rejected]", timeout=30_000)
    return str(await page.get_attribute("#outcome", "data-status"))
