"""Seed the demo shops through the checkout service's own HTTP API (idempotent), then print how to place an order
with one command.

- `demo-shop`: 3-D Secure off, for the one-command `curl` order below (curl has no browser to take the buyer
  through the card company's authentication), the API examples, checks and benchmarks;
- `demo-shop-3ds`: the same shop with EMV 3-D Secure on, as Japan's card-security guidelines require for
  e-commerce: the demo storefront (`web/storefront`) sells for it, so its buyers go through 3-D Secure.

    CHECKOUT_ADMIN_TOKEN=... python -m deploy.local.demo_shop --checkout-url http://127.0.0.1:8001

Both are wired to the e-SCOTT emulator's built-in demo merchant. Run it after checkout, payment and
notification are healthy (the credentials go to payment, the operator key to payment and notification). Exit
status 1 if anything failed. Seeding is local-deployment tooling, not part of any service: it speaks only
checkout's public HTTP API (`make run` calls it from `deploy/local/run.py`; the e2e tests use its shop and
example order).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
from typing import Any

import httpx

SHOP_ID = "demo-shop"
STOREFRONT_KEY = "demo-storefront-key"
OPERATOR_KEY = "demo-operator-key"
CREDENTIALS = {"merchant_id": "10000001", "merchant_pass": "escottpass01", "token_auth_code": "DEMOTOKEN0001",
               "tenant_id": "0001", "three_d_secure_key": "DEMO3DSKEY000001", "three_d_secure_iv": "DEMO3DSIV0000001"}
MAIL = {"sender_address": "shop@demo-shop.example", "sender_name": "デモショップ",
        "shop_copy_address": "orders@demo-shop.example"}
CARD = {
    "display_name": "クレジットカード決済", "sales_mode": "auth", "show_installments": True,
    "card_link_mode": "always", "subscriptions_enabled": True, "renewal_sales_mode": "auth",
    "authorize_at_renewal": True, "logo_url": "https://demo-shop.example/img/cards.png", "logo_alt": "利用可能なカード",
    "note": {"text": "VISA・Mastercard・JCB・American Express・Diners がご利用いただけます。", "on_payment_page": True,
             "in_thanks_mail": True},
    # 3-D Secure off: the curl demo's server-side checkout has no browser to take the buyer through it
    "three_d_secure": {"enabled": False},
}  # fmt: skip
# The browser demo's shop: 3-D Secure on with the default accepted results (design §6.7; the demo merchant's
# key/IV are in CREDENTIALS)
THREE_DS_SHOP_ID = "demo-shop-3ds"
THREE_DS_STOREFRONT_KEY = "demo-3ds-storefront-key"
THREE_DS_OPERATOR_KEY = "demo-3ds-operator-key"
THREE_DS_CARD = {**CARD, "three_d_secure": {"enabled": True, "accepted_results": ["0", "2", "3"]}}
THREE_DS_MAIL = {"sender_address": "shop@demo-shop-3ds.example", "sender_name": "デモショップ（3-Dセキュア）",
                 "shop_copy_address": "orders@demo-shop-3ds.example"}
CARRIERS = {"carriers": [{"carrier_id": "yamato", "name": "ヤマト運輸", "accepts_card": True},
                         {"carrier_id": "cod", "name": "代金引換（佐川急便）", "accepts_card": False}]}


class SeedError(Exception):
    pass


async def seed(client: httpx.AsyncClient, admin_token: str) -> bool:
    """Create or update both demo shops; True if `demo-shop` was created now. Raises `SeedError` with the step."""
    created = await seed_shop(client, admin_token, shop={
        "shop_id": SHOP_ID, "shop_name": "デモショップ", "mail": MAIL, "storefront_key": STOREFRONT_KEY,
        "operator_key": OPERATOR_KEY}, card=CARD)
    await seed_shop(client, admin_token, shop={
        "shop_id": THREE_DS_SHOP_ID, "shop_name": "デモショップ（3-Dセキュア）", "mail": THREE_DS_MAIL,
        "storefront_key": THREE_DS_STOREFRONT_KEY, "operator_key": THREE_DS_OPERATOR_KEY}, card=THREE_DS_CARD)
    return created


async def seed_shop(client: httpx.AsyncClient, admin_token: str, *, shop: dict[str, Any],
                    card: dict[str, Any]) -> bool:
    """One shop with the demo merchant's credentials, `card`, the carriers and its mail settings."""
    created = await _call(client, "POST", "/admin/v1/shops", body=shop, headers={"X-Admin-Token": admin_token})
    if created.json().get("operator_key_sync") != "ok":
        raise SeedError("payment or notification did not take the operator key (are they running?)")
    operator = {"X-Operator-Key": shop["operator_key"]}
    base = f"/v1/shops/{shop['shop_id']}"
    await _call(client, "POST", f"{base}/payment-methods", body={"method": "escott_card"}, headers=operator)
    await _call(client, "PUT", f"{base}/gateway-credentials", body=CREDENTIALS, headers=operator)
    await _call(client, "PUT", f"{base}/payment-methods/escott_card", body=card, headers=operator)
    await _call(client, "PUT", f"{base}/carriers", body=CARRIERS, headers=operator)
    await _call(client, "PUT", f"{base}/mail", body=shop["mail"], headers=operator)
    settings = (await _call(client, "GET", f"{base}/settings", body=None, headers=operator)).json()
    if not settings["payment_methods"][0]["configured"]:
        raise SeedError(f"{shop['shop_id']}: card method still not configured: "
                        f"{settings['payment_methods'][0]['missing']}")
    return created.status_code == 201


async def _call(client: httpx.AsyncClient, method: str, path: str, *, body: Any,
                headers: dict[str, str]) -> httpx.Response:
    try:
        response = await client.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise SeedError(f"{method} {path}: checkout service unreachable ({type(exc).__name__})") from None
    if response.status_code >= 400:
        reason = response.json().get("reason", "") if "json" in response.headers.get("content-type", "") else ""
        raise SeedError(f"{method} {path}: HTTP {response.status_code} {reason}")
    return response


def example_body(checkout_id: str, token: str) -> dict[str, Any]:
    """A guest checkout of ¥3,800 (¥3,300 + ¥500 shipping by a carrier that accepts cards), lump sum."""
    return {
        "checkout_id": checkout_id, "shop_id": SHOP_ID, "cart_type": "three_step",
        "buyer": {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "email": "taro@example.jp", "member_id": None},
        "shipping": {"carrier_id": "yamato", "fee": 500, "recipient_name": "山田 太郎", "postal_code": "100-0001",
                     "prefecture": "東京都", "city": "千代田区", "address_line1": "千代田1-1"},
        "lines": [{"sku": "TEA-001", "name": "煎茶 100g", "unit_price": 3300, "quantity": 1}], "fees": [],
        "payment": {"method": "escott_card", "token": token, "use_registered_card": False, "keep_card": None,
                    "pay_type": "01"},
        "subscription": None,
    }  # fmt: skip


def order_command(checkout_url: str, emulator_url: str) -> str:
    """One shell line: mint a token for a test card at the emulator, then POST the checkout and wait."""
    mint = (f"curl -s -d CardNo=4111111111111111 -d CardExp=3012 -d SecCd=123 "
            f"-d k_TokenNinsyoCode={CREDENTIALS['token_auth_code']} {emulator_url}/_emulator/tokens | cut -d= -f2")
    body = json.dumps(example_body("@ID@", "@TOKEN@"), ensure_ascii=False, separators=(",", ":"))
    head, rest = body.split("@ID@")
    middle, tail = rest.split("@TOKEN@")
    data = f"'{head}'\"demo-$(date +%s%N)\"'{middle}'\"$({mint})\"'{tail}'"
    return (f"curl -s -X POST {shlex.quote(checkout_url + '/v1/checkouts?wait=10')} "
            f"-H 'X-Storefront-Key: {STOREFRONT_KEY}' -H 'Content-Type: application/json' -d {data}")


async def _main(args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(base_url=args.checkout_url, timeout=15) as client:
        try:
            created = await seed(client, args.admin_token)
        except SeedError as exc:
            print(f"demo shop not seeded: {exc}", file=sys.stderr)
            return 1
    print(f"demo shop {SHOP_ID!r} {'created' if created else 'up to date'}: card method configured "
          f"(demo merchant {CREDENTIALS['merchant_id']}), storefront key {STOREFRONT_KEY}, operator key {OPERATOR_KEY}")
    print(f"demo shop {THREE_DS_SHOP_ID!r} (3-D Secure on, the demo storefront's shop): storefront key "
          f"{THREE_DS_STOREFRONT_KEY}, operator key {THREE_DS_OPERATOR_KEY}")
    print("place an order:")
    print(order_command(args.checkout_url.rstrip("/"), args.emulator_url.rstrip("/")))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed the demo shops and print an order command.")
    parser.add_argument("--checkout-url", default="http://127.0.0.1:8001")
    parser.add_argument("--emulator-url", default="http://127.0.0.1:8899")
    parser.add_argument("--admin-token", default=os.environ.get("CHECKOUT_ADMIN_TOKEN", ""),
                        help="default: $CHECKOUT_ADMIN_TOKEN")
    args = parser.parse_args(argv)
    if not args.admin_token:
        parser.error("no admin token: set CHECKOUT_ADMIN_TOKEN or pass --admin-token")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
