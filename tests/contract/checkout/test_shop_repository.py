"""`ShopRepository`: a shop reads back exactly as saved (every setting, renewal ones included), saving never adds,
its id and each key digest are unique, and a storefront key's digest finds its shop only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.checkout.domain.shop import CardNote, MailSettings, RenewalRetry, RenewalSettings
from services.checkout.domain.values import CardLinkMode, SalesMode
from services.checkout.ports import ShopKeys
from tests.unit.checkout.builders import card, shop

KEYS = ShopKeys(storefront_sha256="a" * 64, operator_sha256="b" * 64)
OTHER_KEYS = ShopKeys(storefront_sha256="c" * 64, operator_sha256="d" * 64)
FULL = shop(card=card(note=CardNote(text="VISA/JCB", on_payment_page=True, in_thanks_mail=True),
                      logo_url="https://cdn.example.jp/cards.png", logo_alt="カード", show_installments=True,
                      card_link_mode=CardLinkMode.BUYER_CHOICE, renewal_sales_mode=SalesMode.AUTH_CAPTURE,
                      authorize_at_renewal=False, contract_start=date(2025, 1, 1), contract_end=date(2026, 3, 31),
                      renewal=RenewalSettings(lead_days=5, hour_jst=9, notify_buyer_on_failure=False,
                                              retry=RenewalRetry(max_tries=3, within_days=10)),
                      notify_card_changes=False))


async def test_a_new_shop_reads_back_with_every_setting_and_its_key_digests(store):
    async with store.uow() as uow:
        assert await uow.shops.add(FULL, KEYS)
    async with store.uow() as uow:
        assert await uow.shops.get(FULL.shop_id) == FULL
        assert await uow.shops.keys(FULL.shop_id) == KEYS
        assert await uow.shops.get("no-such-shop") is None and await uow.shops.keys("no-such-shop") is None


async def test_a_saved_change_replaces_the_settings(store):
    bare = shop(card=None, carriers=(), credentials_set=False, version=0)
    changed = replace(FULL, shop_name="新しい名前", mail=MailSettings(sender_address="new@tea.example.jp",
                                                                 shop_copy_address="copy@tea.example.jp"))
    async with store.uow() as uow:
        await uow.shops.add(bare, KEYS)
    async with store.uow() as uow:
        await uow.shops.save(changed)
        await uow.shops.save(replace(changed, shop_id="never-added"))
    async with store.uow() as uow:
        assert await uow.shops.get(bare.shop_id) == changed
        assert await uow.shops.get("never-added") is None
    no_retry = replace(changed, card=replace(FULL.card, renewal=RenewalSettings()))  # type: ignore[arg-type]
    async with store.uow() as uow:
        await uow.shops.save(no_retry)
    async with store.uow() as uow:
        assert await uow.shops.get(bare.shop_id) == no_retry


async def test_a_shop_id_or_a_key_digest_in_use_is_not_added_again(store):
    async with store.uow() as uow:
        assert await uow.shops.add(FULL, KEYS)
    other = replace(FULL, shop_id="other-shop")
    async with store.uow() as uow:
        assert not await uow.shops.add(replace(FULL, shop_name="二号店"), OTHER_KEYS)
        assert not await uow.shops.add(other, replace(OTHER_KEYS, storefront_sha256=KEYS.storefront_sha256))
        assert not await uow.shops.add(other, replace(OTHER_KEYS, operator_sha256=KEYS.operator_sha256))
        assert await uow.shops.add(other, OTHER_KEYS)
    async with store.uow() as uow:
        assert (await uow.shops.get(FULL.shop_id)) == FULL


async def test_a_storefront_key_digest_finds_its_own_shop_and_an_operator_digest_finds_none(store):
    async with store.uow() as uow:
        await uow.shops.add(FULL, KEYS)
        await uow.shops.add(replace(FULL, shop_id="other-shop"), OTHER_KEYS)
    async with store.uow() as uow:
        found = await uow.shops.by_storefront_key(OTHER_KEYS.storefront_sha256)
        assert found is not None and found.shop_id == "other-shop"
        assert await uow.shops.by_storefront_key(KEYS.operator_sha256) is None


async def test_a_shop_added_in_a_failed_unit_does_not_exist(store):
    try:
        async with store.uow() as uow:
            await uow.shops.add(FULL, KEYS)
            raise RuntimeError("the unit fails after the insert")
    except RuntimeError:
        pass
    async with store.uow() as uow:
        assert await uow.shops.get(FULL.shop_id) is None
        assert await uow.shops.add(FULL, KEYS)
