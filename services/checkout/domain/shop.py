"""A shop's card-method settings, carriers and mail settings, and the rules for changing them.

The manual's 設定済み (R1) is `Shop.configured`: the method is added, named, has a sales mode, and the gateway
credentials were accepted by the payment service. Until then the card method is never offered. Every change
returns a new `Shop` with `version` + 1 (the snapshot's `subject_version`), or the same object when nothing
changed, so callers publish a snapshot only for real changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from services.checkout.domain.values import CardLinkMode, SalesMode

DEFAULT_DISPLAY_NAME = "クレジットカード決済"


class SettingsError(ValueError):
    """A settings change that can never be saved; `code` is stable, the message says why, `field` names the
    setting at fault (dotted, e.g. `renewal.retry.max_tries`) when one does."""

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True, kw_only=True)
class CardNote:
    """The shop's note about card payment. The confirmation page always shows it (manual), so only the
    payment page and the thanks mail have switches."""

    text: str = ""
    on_payment_page: bool = False
    in_thanks_mail: bool = False
    on_confirmation_page: bool = field(default=True, init=False)


@dataclass(frozen=True, kw_only=True)
class RenewalRetry:
    """Opt-in retries of a renewal authorization declined with a soft ("try later") code (R22 goes no further by
    default); the payment service runs them, checkout only keeps and publishes the setting."""

    max_tries: int = 2
    within_days: int = 7


@dataclass(frozen=True, kw_only=True)
class RenewalSettings:
    """How renewal orders are generated (受注生成: `lead_days` before delivery, at `hour_jst`) and what a failure
    tells whom; read by the subscription, payment and notification services from `shops.settings`."""

    lead_days: int = 0
    hour_jst: int = 0
    notify_buyer_on_failure: bool = True
    retry: RenewalRetry | None = None


RENEWAL_LIMITS: dict[str, tuple[int, int]] = {
    "renewal.lead_days": (0, 60), "renewal.hour_jst": (0, 23),
    "renewal.retry.max_tries": (1, 5), "renewal.retry.within_days": (1, 14),
}
"""The renewal settings' ranges (the `shops.settings` contract's bounds), by field."""


SECURE_RESULTS = ("0", "2", "3")
"""SecureResultCodes a shop may accept (design §6.7): 0 authenticated, 2 not enrolled (U01: an attempt the scheme
vouches for), 3 the issuer or brand takes no part (U02/U09). Never 1 (failed), 8 or 9 (no decision)."""


@dataclass(frozen=True, kw_only=True)
class ThreeDSecure:
    """EMV 3-D Secure for new cards at checkout (design §6.7). `enabled` is off for settings stored before the
    setting existed (today's flow unchanged) and on for every card method configured through the API without it
    (Japan's guidelines require it since April 2025). `accepted_results` defaults to the whitelist CS-Cart's
    plugin uses (0, 2, 3): safer than the WooCommerce/Welcart blacklist (refuse only 1, 8, 9), which would
    also let through any value a future gateway version adds; a shop may narrow it to ("0",)."""

    enabled: bool = False
    accepted_results: tuple[str, ...] = SECURE_RESULTS


@dataclass(frozen=True, kw_only=True)
class CardMethod:
    """The card method as configured for one shop (R3, R6-R9, R11, R21 inputs)."""

    display_name: str = DEFAULT_DISPLAY_NAME
    min_amount: int | None = None
    max_amount: int | None = None
    note: CardNote = field(default_factory=CardNote)
    logo_url: str | None = None
    logo_alt: str | None = None
    sales_mode: SalesMode | None = None
    show_installments: bool = False
    card_link_mode: CardLinkMode = CardLinkMode.ALWAYS
    subscriptions_enabled: bool = False
    renewal_sales_mode: SalesMode = SalesMode.AUTH
    authorize_at_renewal: bool = True
    contract_start: date | None = None
    contract_end: date | None = None
    renewal: RenewalSettings = field(default_factory=RenewalSettings)
    notify_card_changes: bool = True
    """The buyer hears of a stored card replaced or removed (card page, operator) or expiring before a renewal."""
    three_d_secure: ThreeDSecure = field(default_factory=ThreeDSecure)

    def within_contract(self, day: date) -> bool:
        """Whether `day` (JST) lies in the gateway contract period; an open end is no limit."""
        return ((self.contract_start is None or day >= self.contract_start)
                and (self.contract_end is None or day <= self.contract_end))


@dataclass(frozen=True)
class Carrier:
    carrier_id: str
    name: str
    accepts_card: bool


@dataclass(frozen=True)
class MailSettings:
    """Sender of the thanks mail and receiver of the shop's copy (受注通知, R23)."""

    sender_address: str
    shop_copy_address: str
    sender_name: str = ""


@dataclass(frozen=True, kw_only=True)
class Shop:
    shop_id: str
    shop_name: str
    mail: MailSettings
    carriers: tuple[Carrier, ...] = ()
    card: CardMethod | None = None
    credentials_set: bool = False
    version: int = 0

    def missing(self) -> tuple[str, ...]:
        """What keeps the card method from being 設定済み (R1), in the order an operator fixes it."""
        if self.card is None:
            return ("card_method",)
        missing = []
        if not self.card.display_name.strip():
            missing.append("display_name")
        if self.card.sales_mode is None:
            missing.append("sales_mode")
        if not self.credentials_set:
            missing.append("gateway_credentials")
        return tuple(missing)

    @property
    def configured(self) -> bool:
        return not self.missing()

    def carrier(self, carrier_id: str) -> Carrier | None:
        return next((c for c in self.carriers if c.carrier_id == carrier_id), None)


def create_shop(*, shop_id: str, shop_name: str, mail: MailSettings) -> Shop:
    _check_name(shop_name)
    _check_mail(mail)
    return Shop(shop_id=shop_id, shop_name=shop_name, mail=mail)


def rename_shop(shop: Shop, shop_name: str) -> Shop:
    _check_name(shop_name)
    return _changed(shop, shop_name=shop_name)


def add_card_method(shop: Shop) -> Shop:
    """Put the card method on the shop's list with defaults; it stays unconfigured until completed (R1)."""
    return shop if shop.card is not None else _changed(shop, card=CardMethod())


def configure_card_method(shop: Shop, method: CardMethod) -> Shop:
    """Replace the card method's settings. `always` linking is forced while subscriptions are on (R7)."""
    if shop.card is None:
        raise SettingsError("card_method_not_added", "add the card method to the shop before configuring it")
    _check_method(method)
    if method.subscriptions_enabled and method.card_link_mode is not CardLinkMode.ALWAYS:
        method = replace(method, card_link_mode=CardLinkMode.ALWAYS)
    return _changed(shop, card=method)


def set_carriers(shop: Shop, carriers: tuple[Carrier, ...]) -> Shop:
    ids = [c.carrier_id for c in carriers]
    if len(set(ids)) != len(ids):
        raise SettingsError("carrier_duplicate", "each carrier_id may appear only once")
    if any(not c.carrier_id.strip() or not c.name.strip() for c in carriers):
        raise SettingsError("carrier_invalid", "every carrier needs a carrier_id and a name")
    return _changed(shop, carriers=carriers)


def set_mail(shop: Shop, mail: MailSettings) -> Shop:
    _check_mail(mail)
    return _changed(shop, mail=mail)


def mark_credentials_set(shop: Shop) -> Shop:
    """Record that the payment service accepted the gateway credentials (their values never come here)."""
    return _changed(shop, credentials_set=True)


def _changed(shop: Shop, **changes: object) -> Shop:
    updated = replace(shop, **changes)  # type: ignore[arg-type]  # dataclasses.replace takes field values
    return shop if updated == shop else replace(updated, version=shop.version + 1)


def _check_name(name: str) -> None:
    if not name.strip():
        raise SettingsError("shop_name_empty", "the shop name must not be empty")


def _check_mail(mail: MailSettings) -> None:
    for label, address in (("sender_address", mail.sender_address), ("shop_copy_address", mail.shop_copy_address)):
        if "@" not in address or address.strip() != address or not address.strip("@"):
            raise SettingsError("mail_address_invalid", f"{label} must be a mail address")


def _check_method(method: CardMethod) -> None:
    if not method.display_name.strip():
        raise SettingsError("display_name_empty", "the card method needs a display name (payment page, thanks mail)")
    if method.min_amount is not None and method.max_amount is not None and method.min_amount > method.max_amount:
        raise SettingsError("amount_range_invalid",
                            f"min_amount ¥{method.min_amount} is above max_amount ¥{method.max_amount}",
                            field="max_amount")
    if (method.contract_start is not None and method.contract_end is not None
            and method.contract_start > method.contract_end):
        raise SettingsError("contract_period_invalid", "the contract period ends before it starts",
                            field="contract_end")
    if method.logo_url is not None and not method.logo_url.startswith(("https://", "http://")):
        raise SettingsError("logo_url_invalid", "logo_url must be an http(s) URL", field="logo_url")
    _check_renewal(method.renewal)
    results = method.three_d_secure.accepted_results
    if "0" not in results or not set(results) <= set(SECURE_RESULTS):
        raise SettingsError("three_d_secure_results_invalid", "accepted_results must include 0 and hold only 0, 2 "
                            "and 3 (1, 8 and 9 are never accepted)", field="three_d_secure.accepted_results")


def _check_renewal(renewal: RenewalSettings) -> None:
    retry = renewal.retry
    values = {"renewal.lead_days": renewal.lead_days, "renewal.hour_jst": renewal.hour_jst,
              "renewal.retry.max_tries": retry.max_tries if retry else None,
              "renewal.retry.within_days": retry.within_days if retry else None}
    for name, value in values.items():
        low, high = RENEWAL_LIMITS[name]
        if value is not None and not low <= value <= high:
            raise SettingsError("renewal_setting_invalid", f"{name} must be between {low} and {high}", field=name)
