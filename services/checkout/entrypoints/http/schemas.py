"""Request bodies of the HTTP API, and their mapping to domain values.

Secrets (keys, merchant password, token auth code) are `SecretStr`: masked in repr and logs, read only
where they are used. Bodies reject unknown fields, so a typo in a setting is a 422, not a silent default.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts.events import CheckoutRequested
from contracts.events.orders import ACCEPTABLE_RESULTS, SecureResult
from contracts.types import CardLinkMode, Identifier, NonEmptyStr, SalesMode
from services.checkout.domain import shop as d
from services.checkout.domain import values as v
from services.checkout.domain.edits import OrderEdit
from services.checkout.ports import GatewayCredentials


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class MailBody(Body):
    sender_address: NonEmptyStr
    sender_name: str = ""
    shop_copy_address: NonEmptyStr = Field(description="Receives the shop's copy of every thanks mail (受注通知).")

    def domain(self) -> d.MailSettings:
        return d.MailSettings(sender_address=self.sender_address, sender_name=self.sender_name,
                              shop_copy_address=self.shop_copy_address)


class CreateShopBody(Body):
    shop_id: Identifier
    shop_name: NonEmptyStr
    mail: MailBody
    storefront_key: SecretStr | None = Field(default=None, description="Generated when absent (≥ 16 characters).")
    operator_key: SecretStr | None = Field(default=None, description="Generated when absent (≥ 16 characters).")


class AddMethodBody(Body):
    method: Literal["escott_card"] = "escott_card"


class NoteBody(Body):
    text: str = ""
    on_payment_page: bool = False
    in_thanks_mail: bool = False
    on_confirmation_page: bool | None = Field(default=None, description="Read-only, ignored on write: the note is "
                                              "always on the confirmation page.", json_schema_extra={"readOnly": True})


class RenewalRetryBody(Body):
    """Opt-in retries of a soft-declined renewal authorization (the payment service runs them)."""

    max_tries: int = Field(default=2, ge=1, le=5, description="Retries after the first decline.")
    within_days: int = Field(default=7, ge=1, le=14, description="No retry later than this after the first try.")


class RenewalBody(Body):
    """How renewal orders are generated (受注生成) and what a failure tells whom."""

    lead_days: int = Field(default=0, ge=0, le=60, description="Generate the order this many days before delivery.")
    hour_jst: int = Field(default=0, ge=0, le=23, description="Hour of day (JST) renewal orders are generated.")
    notify_buyer_on_failure: bool = True
    retry: RenewalRetryBody | None = Field(default=None, description="Null: a declined renewal is never retried.")

    def domain(self) -> d.RenewalSettings:
        retry = self.retry
        return d.RenewalSettings(
            lead_days=self.lead_days, hour_jst=self.hour_jst, notify_buyer_on_failure=self.notify_buyer_on_failure,
            retry=d.RenewalRetry(max_tries=retry.max_tries, within_days=retry.within_days) if retry else None,
        )  # fmt: skip


READ_ONLY = frozenset({"method", "gateway_credentials_set", "configured", "missing", "card_link_mode_forced"})


def _read_only(description: str) -> Any:
    return Field(default=None, description=f"Read-only, ignored on write: {description}.",
                 json_schema_extra={"readOnly": True})


class ThreeDSecureBody(Body):
    """EMV 3-D Secure for new cards at checkout (design §6.7)."""

    enabled: bool = Field(default=True, description="On by default (Japan's guidelines since April 2025): a checkout "
                          "with a new card answers action_required and the buyer authenticates at the gateway.")
    accepted_results: list[SecureResult] = Field(
        default_factory=lambda: list(ACCEPTABLE_RESULTS), min_length=1,
        description="SecureResultCodes accepted: 0 authenticated, 2 not enrolled (U01), 3 issuer/brand not taking "
                    "part (U02/U09). Must include 0; 1, 8 and 9 are never accepted.")

    def domain(self) -> d.ThreeDSecure:
        return d.ThreeDSecure(enabled=self.enabled, accepted_results=tuple(sorted(set(self.accepted_results))))


class CardMethodBody(Body):
    """The card method's settings (a full replacement). `sales_mode` has no default: it is a choice.
    `renewal_sales_mode`, `authorize_at_renewal`, the contract period and `renewal` decide renewal orders (R11,
    R21, R22)."""

    display_name: NonEmptyStr = d.DEFAULT_DISPLAY_NAME
    min_amount: int | None = Field(default=None, ge=0)
    max_amount: int | None = Field(default=None, ge=0)
    note: NoteBody = Field(default_factory=NoteBody)
    logo_url: str | None = None
    logo_alt: str | None = None
    sales_mode: SalesMode
    show_installments: bool = False
    card_link_mode: CardLinkMode = "always"
    subscriptions_enabled: bool = False
    renewal_sales_mode: SalesMode = "auth"
    authorize_at_renewal: bool = True
    contract_start: date | None = Field(default=None, description="Gateway contract period start (JST).")
    contract_end: date | None = Field(default=None, description="Gateway contract period end (JST).")
    renewal: RenewalBody = Field(default_factory=RenewalBody)
    notify_card_changes: bool = Field(default=True, description="Send the buyer a short notice when their stored "
                                      "card is replaced or removed, or will have expired at a renewal (R18).")
    three_d_secure: ThreeDSecureBody = Field(default_factory=ThreeDSecureBody)
    # What GET …/settings shows besides the settings: accepted and ignored, so a read -> modify -> write round trip
    # works (issue 14); anything else unknown is still a 422.
    method: Literal["escott_card"] | None = _read_only("the method; fixed by the path")
    gateway_credentials_set: bool | None = _read_only("whether credentials are set (PUT …/gateway-credentials)")
    configured: bool | None = _read_only("whether the method is 設定済み")
    missing: list[str] | None = _read_only("what configuring still lacks")
    card_link_mode_forced: bool | None = _read_only("card_link_mode is always while subscriptions are enabled")

    def domain(self) -> d.CardMethod:
        data = self.model_dump(exclude={"note", "sales_mode", "card_link_mode", "renewal_sales_mode", "renewal",
                                        "three_d_secure", *READ_ONLY})
        return d.CardMethod(**data, note=d.CardNote(**self.note.model_dump(exclude={"on_confirmation_page"})),
                            sales_mode=v.SalesMode(self.sales_mode), card_link_mode=v.CardLinkMode(self.card_link_mode),
                            renewal_sales_mode=v.SalesMode(self.renewal_sales_mode), renewal=self.renewal.domain(),
                            three_d_secure=self.three_d_secure.domain())


class CarrierBody(Body):
    carrier_id: Identifier
    name: NonEmptyStr
    accepts_card: bool


class CarriersBody(Body):
    carriers: list[CarrierBody]

    def domain(self) -> tuple[d.Carrier, ...]:
        return tuple(d.Carrier(carrier_id=c.carrier_id, name=c.name, accepts_card=c.accepts_card)
                     for c in self.carriers)


class CredentialsBody(Body):
    """e-SCOTT credentials: forwarded to the payment service, never stored or returned by checkout."""

    merchant_id: str = Field(pattern=r"^[0-9]{1,20}$", description="e-SCOTT MerchantId")
    merchant_pass: SecretStr = Field(min_length=1, max_length=20)
    token_auth_code: SecretStr = Field(min_length=1, max_length=32, description="k_TokenNinsyoCode")
    tenant_id: str = Field(default="0001", pattern=r"^[0-9A-Za-z]{4}$", description="TenantId (店舗コード)")
    three_d_secure_key: SecretStr | None = Field(
        default=None, min_length=16, max_length=16,
        description="EMV 3-D Secure: the AES-128 key SPS issues for EncryptValue (16 characters); needed when the "
                    "card method's three_d_secure is on")
    three_d_secure_iv: SecretStr | None = Field(default=None, min_length=16, max_length=16,
                                                description="EMV 3-D Secure: its IV (16 characters)")

    def domain(self) -> GatewayCredentials:
        key, iv = self.three_d_secure_key, self.three_d_secure_iv
        return GatewayCredentials(merchant_id=self.merchant_id, merchant_pass=self.merchant_pass.get_secret_value(),
                                  token_auth_code=self.token_auth_code.get_secret_value(), tenant_id=self.tenant_id,
                                  three_d_secure_key=key.get_secret_value() if key else None,
                                  three_d_secure_iv=iv.get_secret_value() if iv else None)


class EditLineBody(Body):
    sku: NonEmptyStr
    name: NonEmptyStr
    unit_price: int = Field(ge=0)
    quantity: int = Field(ge=1)


class EditFeeBody(Body):
    name: NonEmptyStr
    amount: int = Field(ge=0, description="must be known (R2): no 'to be advised' in an edit")


class OrderEditBody(Body):
    """An operator's edit of a completed order: each given part replaces the order's (lines, shipping fee,
    fees); parts left out stay as they were. The new total goes to payment (R12: update before capture)."""

    lines: list[EditLineBody] | None = Field(default=None, min_length=1)
    shipping_fee: int | None = Field(default=None, ge=0)
    fees: list[EditFeeBody] | None = None
    edited_by: str | None = Field(default=None, max_length=128)

    def domain(self) -> OrderEdit:
        return OrderEdit(
            lines=None if self.lines is None else tuple(v.Line(**x.model_dump()) for x in self.lines),
            shipping_fee=self.shipping_fee,
            fees=None if self.fees is None else tuple(v.Fee(**x.model_dump()) for x in self.fees),
        )  # fmt: skip


class CheckoutBody(CheckoutRequested):
    """`CheckoutRequested` v1 as a storefront POSTs it; `shop_id` may be left out (the key names the shop)."""

    shop_id: Identifier | None = None  # type: ignore[assignment]  # optional here only
    sealed_token: None = Field(default=None, description="Not accepted from storefronts: send payment.token.")

    def event(self, shop_id: str) -> CheckoutRequested:
        data = {name: getattr(self, name) for name in CheckoutRequested.model_fields}
        return CheckoutRequested.model_validate({**data, "shop_id": shop_id})
