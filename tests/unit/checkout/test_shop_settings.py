"""R1/R7 settings rules: 設定済み only when complete, `always` forced with subscriptions, versions per change; the
renewal settings (R11, R21, R22) within their ranges."""

from __future__ import annotations

from datetime import date

import pytest

from services.checkout.domain.shop import (
    CardMethod,
    Carrier,
    MailSettings,
    RenewalRetry,
    RenewalSettings,
    SettingsError,
    add_card_method,
    configure_card_method,
    create_shop,
    mark_credentials_set,
    set_carriers,
    set_mail,
)
from services.checkout.domain.values import CardLinkMode, SalesMode

MAIL = MailSettings("shop@example.jp", "orders@example.jp")


def new_shop():
    return create_shop(shop_id="s1", shop_name="店", mail=MAIL)


def test_the_card_method_is_configured_only_once_added_given_a_sales_mode_and_credentials():
    shop = new_shop()
    assert shop.missing() == ("card_method",)
    shop = add_card_method(shop)
    assert shop.missing() == ("sales_mode", "gateway_credentials")
    shop = configure_card_method(shop, CardMethod(sales_mode=SalesMode.AUTH_CAPTURE))
    assert shop.missing() == ("gateway_credentials",) and not shop.configured
    shop = mark_credentials_set(shop)
    assert shop.configured and shop.version == 3


def test_linking_is_forced_to_always_while_subscriptions_are_enabled():
    shop = add_card_method(new_shop())
    method = CardMethod(sales_mode=SalesMode.AUTH, subscriptions_enabled=True, card_link_mode=CardLinkMode.NEVER)
    assert configure_card_method(shop, method).card.card_link_mode is CardLinkMode.ALWAYS
    method = CardMethod(sales_mode=SalesMode.AUTH, card_link_mode=CardLinkMode.BUYER_CHOICE)
    assert configure_card_method(shop, method).card.card_link_mode is CardLinkMode.BUYER_CHOICE


def test_an_unchanged_setting_is_the_same_shop_so_nothing_is_published():
    shop = add_card_method(new_shop())
    assert add_card_method(shop) is shop
    assert set_mail(shop, MAIL) is shop


@pytest.mark.parametrize(("change", "code"), [
    (lambda s: configure_card_method(new_shop(), CardMethod(sales_mode=SalesMode.AUTH)), "card_method_not_added"),
    (lambda s: configure_card_method(s, CardMethod(sales_mode=SalesMode.AUTH, min_amount=5, max_amount=4)),
     "amount_range_invalid"),
    (lambda s: configure_card_method(s, CardMethod(display_name=" ", sales_mode=SalesMode.AUTH)),
     "display_name_empty"),
    (lambda s: configure_card_method(s, CardMethod(sales_mode=SalesMode.AUTH, logo_url="javascript:x")),
     "logo_url_invalid"),
    (lambda s: set_carriers(s, (Carrier("a", "A", accepts_card=True), Carrier("a", "A2", accepts_card=False))),
     "carrier_duplicate"),
    (lambda s: set_mail(s, MailSettings("not-an-address", "orders@example.jp")), "mail_address_invalid"),
])  # fmt: skip
def test_invalid_settings_are_refused_with_a_code(change, code):
    with pytest.raises(SettingsError) as refused:
        change(add_card_method(new_shop()))
    assert refused.value.code == code


def test_renewal_settings_are_kept_with_the_card_method():
    renewal = RenewalSettings(lead_days=5, hour_jst=9, notify_buyer_on_failure=False,
                              retry=RenewalRetry(max_tries=3, within_days=10))
    method = CardMethod(sales_mode=SalesMode.AUTH, renewal_sales_mode=SalesMode.AUTH_CAPTURE, renewal=renewal)
    shop = configure_card_method(add_card_method(new_shop()), method)
    assert shop.card.renewal == renewal and shop.card.renewal_sales_mode is SalesMode.AUTH_CAPTURE
    assert CardMethod().renewal == RenewalSettings(lead_days=0, hour_jst=0, notify_buyer_on_failure=True, retry=None)


@pytest.mark.parametrize(("renewal", "field"), [
    (RenewalSettings(lead_days=61), "renewal.lead_days"),
    (RenewalSettings(hour_jst=24), "renewal.hour_jst"),
    (RenewalSettings(hour_jst=-1), "renewal.hour_jst"),
    (RenewalSettings(retry=RenewalRetry(max_tries=0)), "renewal.retry.max_tries"),
    (RenewalSettings(retry=RenewalRetry(within_days=15)), "renewal.retry.within_days"),
])  # fmt: skip
def test_renewal_settings_out_of_range_are_refused_naming_the_field(renewal, field):
    with pytest.raises(SettingsError) as refused:
        configure_card_method(add_card_method(new_shop()), CardMethod(sales_mode=SalesMode.AUTH, renewal=renewal))
    assert (refused.value.code, refused.value.field) == ("renewal_setting_invalid", field)


def test_a_contract_period_ending_before_it_starts_names_its_end():
    method = CardMethod(sales_mode=SalesMode.AUTH, contract_start=date(2025, 6, 2), contract_end=date(2025, 6, 1))
    with pytest.raises(SettingsError) as refused:
        configure_card_method(add_card_method(new_shop()), method)
    assert (refused.value.code, refused.value.field) == ("contract_period_invalid", "contract_end")
