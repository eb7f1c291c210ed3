"""The real shop handlers on fakes: creating and changing a shop publishes its full settings snapshot (renewal
settings included), a repeat with the same keys is idempotent, the operator key's digest reaches payment,
notification and subscription, the storefront key's digest subscription, and gateway credentials go to payment
only."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.events import ShopSettingsChanged
from services.checkout.domain import shop as rules
from services.checkout.domain.shop import CardMethod, MailSettings, RenewalRetry, RenewalSettings
from services.checkout.domain.values import SalesMode
from services.checkout.handlers.shops import (
    NewShop,
    ShopConflict,
    change_shop,
    create_shop,
    is_operator,
    set_gateway_credentials,
    storefront_shop,
)
from services.checkout.ports import GatewayCredentials, PaymentServiceError
from tests.fakes.checkout import CheckoutFakes
from tests.unit.checkout.inbound import OPERATOR_KEY, STOREFRONT_KEY, digest

MAIL = MailSettings(sender_address="info@tea.example.jp", shop_copy_address="orders@tea.example.jp")
CREDENTIALS = GatewayCredentials(merchant_id="10000001", merchant_pass="pass-SECRET", token_auth_code="code-SECRET")


def new_shop(**changes: object) -> NewShop:
    fields: dict[str, object] = {"shop_id": "tea", "shop_name": "お茶の店", "mail": MAIL,
                                 "storefront_key": STOREFRONT_KEY, "operator_key": OPERATOR_KEY, **changes}
    return NewShop(**fields)  # type: ignore[arg-type]


@pytest.fixture
def fakes() -> CheckoutFakes:
    return CheckoutFakes()


async def test_a_new_shop_publishes_its_settings_and_its_operator_key_reaches_payment_and_notification(fakes):
    created = await create_shop(fakes.deps, new_shop())
    assert created.created and created.operator_key_synced and created.operator_key == OPERATOR_KEY
    [snapshot] = fakes.state.emitted(ShopSettingsChanged)
    assert (snapshot.shop_id, snapshot.shop_name, snapshot.card) == ("tea", "お茶の店", None)
    assert fakes.state.shop_keys["tea"].storefront_sha256 == digest(STOREFRONT_KEY)  # digests only
    assert fakes.payment.operator_keys == fakes.notification.operator_keys == {"tea": digest(OPERATOR_KEY)}
    assert fakes.state.operator_key_synced == {"tea": True}


async def test_a_repeat_with_the_same_keys_is_idempotent_and_a_new_name_publishes_a_new_version(fakes):
    await create_shop(fakes.deps, new_shop())
    same = await create_shop(fakes.deps, new_shop())
    renamed = await create_shop(fakes.deps, new_shop(shop_name="お茶の店 本店"))
    assert (same.created, renamed.created) == (False, False)
    snapshots = fakes.state.emitted(ShopSettingsChanged)
    assert [s.shop_name for s in snapshots] == ["お茶の店", "お茶の店 本店"]
    assert [e.subject_version for e in fakes.state.outbox] == [0, 1]


async def test_a_repeat_without_the_shops_keys_is_refused(fakes):
    await create_shop(fakes.deps, new_shop())
    with pytest.raises(ShopConflict) as conflict:
        await create_shop(fakes.deps, new_shop(storefront_key=None, operator_key=None))
    assert conflict.value.code == "shop_exists" and len(fakes.state.outbox) == 1


async def test_an_operator_key_a_service_did_not_take_leaves_the_shop_pending_sync(fakes):
    fakes.notification.down = True
    created = await create_shop(fakes.deps, new_shop())
    assert created.created and not created.operator_key_synced
    assert fakes.payment.operator_keys == {"tea": digest(OPERATOR_KEY)}
    assert fakes.state.operator_key_synced == {"tea": False}


async def test_the_subscription_service_gets_the_operator_and_the_storefront_key_digests(fakes):
    created = await create_shop(fakes.deps, new_shop())
    assert created.operator_key_synced and created.storefront_key_synced
    assert fakes.subscription.operator_keys == {"tea": digest(OPERATOR_KEY)}
    assert fakes.subscription.storefront_keys == {"tea": digest(STOREFRONT_KEY)}


async def test_payment_gets_the_storefront_key_digest_for_the_members_card_page(fakes):
    created = await create_shop(fakes.deps, new_shop())
    assert created.storefront_key_synced and fakes.payment.storefront_keys == {"tea": digest(STOREFRONT_KEY)}


async def test_a_payment_service_that_is_down_leaves_the_storefront_key_pending(fakes):
    fakes.payment.down = True
    created = await create_shop(fakes.deps, new_shop())
    assert (created.storefront_key_synced, fakes.subscription.storefront_keys) == (False, {"tea": digest(
        STOREFRONT_KEY)})
    assert fakes.notification.storefront_keys == {}  # only storefront-key registries get the storefront key


async def test_a_subscription_service_that_is_down_leaves_both_keys_pending_and_a_repeat_syncs_them(fakes):
    fakes.subscription.down = True
    first = await create_shop(fakes.deps, new_shop())
    assert (first.operator_key_synced, first.storefront_key_synced) == (False, False)
    fakes.subscription.down = False
    repeat = await create_shop(fakes.deps, new_shop())
    assert (repeat.operator_key_synced, repeat.storefront_key_synced) == (True, True)
    assert fakes.subscription.storefront_keys == {"tea": digest(STOREFRONT_KEY)}


async def test_the_card_notice_switch_is_published_in_the_snapshot(fakes):
    await create_shop(fakes.deps, new_shop())
    await change_shop(fakes.deps, "tea", rules.add_card_method)
    method = CardMethod(sales_mode=SalesMode.AUTH, notify_card_changes=False)
    await change_shop(fakes.deps, "tea", lambda shop: rules.configure_card_method(shop, method))
    card = fakes.state.emitted(ShopSettingsChanged)[-1].card
    assert card is not None and card.notify_card_changes is False


async def test_the_renewal_settings_are_published_in_the_snapshot(fakes):
    await create_shop(fakes.deps, new_shop())
    await change_shop(fakes.deps, "tea", rules.add_card_method)
    method = CardMethod(sales_mode=SalesMode.AUTH, subscriptions_enabled=True,
                        renewal_sales_mode=SalesMode.AUTH_CAPTURE, authorize_at_renewal=False,
                        contract_start=date(2025, 1, 1), contract_end=date(2026, 3, 31),
                        renewal=RenewalSettings(lead_days=5, hour_jst=9, notify_buyer_on_failure=False,
                                                retry=RenewalRetry(max_tries=3, within_days=10)))
    await change_shop(fakes.deps, "tea", lambda shop: rules.configure_card_method(shop, method))
    card = fakes.state.emitted(ShopSettingsChanged)[-1].card
    assert card is not None
    assert (card.renewal_sales_mode, card.authorize_at_renewal) == ("auth_capture", False)
    assert (card.contract_start, card.contract_end) == (date(2025, 1, 1), date(2026, 3, 31))
    renewal = card.renewal
    assert (renewal.lead_days, renewal.hour_jst, renewal.notify_buyer_on_failure) == (5, 9, False)
    assert renewal.retry is not None and (renewal.retry.max_tries, renewal.retry.within_days) == (3, 10)


async def test_a_settings_change_publishes_the_new_snapshot_and_no_change_publishes_nothing(fakes):
    await create_shop(fakes.deps, new_shop())
    added = await change_shop(fakes.deps, "tea", rules.add_card_method)
    again = await change_shop(fakes.deps, "tea", rules.add_card_method)
    assert added.version == again.version == 1
    snapshots = fakes.state.emitted(ShopSettingsChanged)
    assert [s.card is not None for s in snapshots] == [False, True]
    assert snapshots[-1].card is not None and not snapshots[-1].card.configured


async def test_gateway_credentials_go_to_payment_and_the_shop_only_remembers_they_are_set(fakes):
    await create_shop(fakes.deps, new_shop())
    shop = await set_gateway_credentials(fakes.deps, "tea", CREDENTIALS)
    assert shop.credentials_set and fakes.payment.credentials == {"tea": CREDENTIALS}
    assert "SECRET" not in repr(fakes.state.shops["tea"]) and "SECRET" not in str(fakes.state.emitted())


async def test_credentials_payment_did_not_take_are_not_marked_set(fakes):
    await create_shop(fakes.deps, new_shop())
    fakes.payment.down = True
    with pytest.raises(PaymentServiceError):
        await set_gateway_credentials(fakes.deps, "tea", CREDENTIALS)
    assert not fakes.state.shops["tea"].credentials_set


async def test_each_key_opens_only_its_own_role_of_its_own_shop(fakes):
    await create_shop(fakes.deps, new_shop())
    await create_shop(fakes.deps, new_shop(shop_id="other", storefront_key="other-storefront-key-0123",
                                           operator_key="other-operator-key-01234"))
    assert await is_operator(fakes.deps, "tea", OPERATOR_KEY)
    assert not await is_operator(fakes.deps, "other", OPERATOR_KEY)
    assert not await is_operator(fakes.deps, "tea", STOREFRONT_KEY)
    found = await storefront_shop(fakes.deps, STOREFRONT_KEY)
    assert found is not None and found.shop_id == "tea"
    assert await storefront_shop(fakes.deps, OPERATOR_KEY) is None
