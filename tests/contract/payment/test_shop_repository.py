"""`ShopRepository`: a shop's gateway credentials read back as stored (and as replaced), unreadable ones say so
rather than answer garbage, and the `shops.settings` projection keeps the latest snapshot (the renewal retry
opt-in included)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from services.payment.domain.retries import RetryPolicy
from services.payment.ports import Credentials, CredentialsUnreadable, ShopSettings
from tests.contract.payment.conftest import Store
from tests.fakes.payment_gateway import DEMO_CREDENTIALS

OTHER = Credentials(merchant_id="20000002", merchant_pass=SecretStr("otherpass"), token_auth_code=SecretStr("TOK2"),
                    tenant_id="0002")


async def test_credentials_read_back_as_stored_and_as_replaced(store: Store) -> None:
    async with store.uow() as uow:
        await uow.shops.put_credentials("shop-1", DEMO_CREDENTIALS)
        await uow.shops.put_credentials("shop-2", DEMO_CREDENTIALS)
        await uow.shops.put_credentials("shop-2", OTHER)
    async with store.uow() as uow:
        found = [await uow.shops.credentials(s) for s in ("shop-1", "shop-2", "shop-3")]
    secrets = [(c.merchant_pass.get_secret_value(), c.token_auth_code.get_secret_value()) if c else None
               for c in found]
    assert found == [DEMO_CREDENTIALS, OTHER, None]
    assert secrets == [("escottpass01", "DEMOTOKEN0001"), ("otherpass", "TOK2"), None]


async def test_credentials_no_key_can_read_are_unreadable_until_stored_again(store: Store) -> None:
    async with store.uow() as uow:
        await uow.shops.put_credentials("shop-1", DEMO_CREDENTIALS)
    await store.make_unreadable("shop-1")
    with pytest.raises(CredentialsUnreadable):
        async with store.uow() as uow:
            await uow.shops.credentials("shop-1")
    async with store.uow() as uow:
        await uow.shops.put_credentials("shop-1", OTHER)
        assert await uow.shops.credentials("shop-1") == OTHER


async def test_the_settings_projection_keeps_the_latest_snapshot(store: Store) -> None:
    first = ShopSettings(shop_id="shop-1", configured=True, sales_mode="auth", card_link_mode="always",
                         subscriptions_enabled=True, renewal_sales_mode="auth_capture", authorize_at_renewal=True,
                         renewal_retry=RetryPolicy(max_tries=3, within_days=10))
    latest = ShopSettings(shop_id="shop-1", configured=False)
    async with store.uow() as uow:
        await uow.shops.put_settings(first)
        assert await uow.shops.settings("shop-1") == first
        await uow.shops.put_settings(latest)
    async with store.uow() as uow:
        assert (await uow.shops.settings("shop-1"), await uow.shops.settings("shop-2")) == (latest, None)
