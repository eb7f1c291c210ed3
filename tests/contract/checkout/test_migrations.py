"""Checkout's renewal migrations on a database that already holds data: orders and card settings stored before
them read back unchanged (renewal settings at their defaults), and the new constraints hold for old rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import asyncpg
import pytest

from delivery.db import migrate
from delivery.units import UnitOfWorkFactory
from services.checkout.adapters.postgres.codec import request_to_json
from services.checkout.adapters.postgres.uow import CheckoutUnitOfWork
from services.checkout.app import MIGRATIONS
from services.checkout.domain.order import place_order
from services.checkout.domain.shop import RenewalSettings
from services.checkout.ports import ShopKeys
from tests.unit.checkout.builders import NOW, card, request, shop

pytestmark = pytest.mark.postgres
BEFORE_RENEWALS = "005"


class _Runtime:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool


async def test_data_stored_before_the_renewal_migrations_reads_back_with_renewal_defaults(new_database, tmp_path):
    older = _migrations_before(tmp_path, BEFORE_RENEWALS)
    pool = await asyncpg.create_pool(await new_database(), min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, older)
        old_shop = shop(card=card())
        order = place_order(request(), old_shop, order_id="ord_old", payment_number="20250601000000000001", now=NOW)
        await _store_as_before(pool, old_shop, order)
        async with pool.acquire() as conn:
            applied = await migrate(conn, MIGRATIONS)  # and any later ones
            assert applied[:2] == ["checkout/005_renewal_orders", "checkout/006_renewal_settings"]
        uow = UnitOfWorkFactory(_Runtime(pool), CheckoutUnitOfWork)
        async with uow() as unit:
            read = await unit.shops.get(old_shop.shop_id)
            assert read is not None and read.card is not None and read.card.renewal == RenewalSettings()
            assert await unit.orders.get("ord_old") == order
    finally:
        await pool.close()


def _migrations_before(tmp_path: Path, first_new: str) -> Path:
    """A copy of checkout's migrations up to (not including) `first_new`, under the same directory names, so the
    runner records the same versions and applies only the rest later."""
    older = tmp_path / MIGRATIONS.parent.name / MIGRATIONS.name
    older.mkdir(parents=True)
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < first_new:
            shutil.copy(path, older / path.name)
    return older


async def _store_as_before(pool: asyncpg.Pool, old_shop, order) -> None:
    """A shop whose card JSON has no `renewal` (as stored before 006) and an order inserted with the old columns."""
    card_json = json.dumps({
        "display_name": "クレジットカード決済", "min_amount": 1000, "max_amount": 500000,
        "note": {"text": "", "on_payment_page": False, "in_thanks_mail": False}, "logo_url": None, "logo_alt": None,
        "sales_mode": "auth", "show_installments": False, "card_link_mode": "always", "subscriptions_enabled": True,
        "renewal_sales_mode": "auth", "authorize_at_renewal": True, "contract_start": None, "contract_end": None})
    keys = ShopKeys(storefront_sha256="a" * 64, operator_sha256="b" * 64)
    await pool.execute(
        "INSERT INTO shops (shop_id, shop_name, storefront_key_hash, operator_key_hash, mail, carriers, card, "
        "credentials_set, version) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, true, $8)",
        old_shop.shop_id, old_shop.shop_name, keys.storefront_sha256, keys.operator_sha256,
        '{"sender_address": "shop@example.jp", "shop_copy_address": "orders@example.jp", "sender_name": ""}',
        '[{"carrier_id": "yamato", "name": "ヤマト運輸", "accepts_card": true}, '
        '{"carrier_id": "cod", "name": "代引き便", "accepts_card": false}]', card_json, old_shop.version)
    await pool.execute(
        "INSERT INTO orders (order_id, shop_id, checkout_id, status, payment_status, version, placed_at, order_date, "
        "payment_number, amount, cart_type, buyer_name, buyer_name_kana, buyer_email, member_id, request, pay_type, "
        "payment_method_name, sales_mode, card_link_mode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
        "$12, $13, $14, $15, $16::jsonb, $17, $18, $19, $20)",
        order.order_id, order.shop_id, order.checkout_id, order.status, order.payment_status, order.version,
        order.placed_at, order.order_date, order.payment_number, order.amount, order.request.cart_type,
        order.request.buyer.name, order.request.buyer.name_kana, order.request.buyer.email,
        order.request.buyer.member_id, request_to_json(order.request), order.pay_type, order.payment_method_name,
        order.sales_mode, order.card_link_mode)
