"""Representative instances of every event contract, shared by the contract tests.

One factory per event type, each filling every field (optional ones too) so round trips exercise the
whole shape. `SAMPLES` maps each type name to its factory; a test checks it covers the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from contracts.events import (
    CancelPayment,
    CapturePayment,
    CardLinked,
    CardReplaced,
    CardUnlinked,
    ChargeAuthenticatedPayment,
    CheckoutRequested,
    Event,
    MailFailed,
    MailFailedV2,
    MailSent,
    MailSentV2,
    OrderAmountChanged,
    OrderCompleted,
    OrderNeedsReview,
    OrderPlaced,
    OrderRejected,
    PaymentAmountUpdated,
    PaymentAuthenticationRequired,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentCaptured,
    PaymentDeclined,
    PaymentHoldReleased,
    PaymentOperationFailed,
    PaymentOutcomeUnknown,
    RenewalCardExpiring,
    RenewalCycleSettled,
    RenewalOrderRequested,
    RenewalPaymentFailed,
    ShopSettingsChanged,
    SubscriptionChanged,
    SubscriptionStarted,
    UpdatePaymentAmount,
)
from contracts.events.common import Buyer, Fee, Line, PaymentChoice, Shipping, SubscriptionTerms
from contracts.events.shops import CardMethodSettings, CardNote, Carrier, MailSettings

TOKEN = "tok_5f2c9a7e41d04b7f8a1e"
"""A recognisable fake card token: tests assert it never shows up where it must not."""
PAYMENT_NUMBER = "20250101000000000042"


def buyer() -> Buyer:
    return Buyer(name="山田 太郎", name_kana="ヤマダ タロウ", email="taro@example.jp", member_id="m-1001")


def shipping() -> Shipping:
    return Shipping(
        carrier_id="yamato", fee=880, recipient_name="山田 太郎", postal_code="100-0001", prefecture="東京都",
        city="千代田区", address_line1="千代田1-1", address_line2="皇居前ビル 3F", phone="03-1234-5678",
    )  # fmt: skip


def lines() -> list[Line]:
    return [
        Line(sku="TEA-001", name="煎茶 100g", unit_price=1200, quantity=2),
        Line(sku="CUP-002", name="湯呑み", unit_price=3300, quantity=1),
    ]


def fees() -> list[Fee]:
    return [Fee(name="ギフト包装", amount=330)]


def terms() -> SubscriptionTerms:
    return SubscriptionTerms(every=1, unit="month")


def payment_choice(token: str | None = TOKEN) -> PaymentChoice:
    return PaymentChoice.model_validate(
        {"token": token, "use_registered_card": False, "keep_card": True, "pay_type": "01"}
    )


def checkout_requested() -> CheckoutRequested:
    return CheckoutRequested(
        checkout_id="sf-checkout-0001", shop_id="demo-shop", cart_type="subscription", buyer=buyer(),
        shipping=shipping(), lines=lines(), fees=fees(), payment=payment_choice(), subscription=terms(),
    )  # fmt: skip


_ORDER = {"order_id": "ord-0001", "shop_id": "demo-shop", "checkout_id": "sf-checkout-0001"}
_RENEWAL = {"subscription_id": "sub-0001", "cycle_no": 1}
_PAYMENT = {"order_id": "ord-0001", "shop_id": "demo-shop", "payment_number": PAYMENT_NUMBER}
_MAIL = {"order_id": "ord-0001", "shop_id": "demo-shop", "recipient": "taro@example.jp", "attempts": 1}


def order_placed() -> OrderPlaced:
    return OrderPlaced(
        **_ORDER, **_RENEWAL, origin="checkout", cart_type="subscription", payment_number=PAYMENT_NUMBER,
        amount=7610, order_date=date(2025, 1, 1), buyer=buyer(), payment=payment_choice(),
        sales_mode="auth", card_link_mode="always", payment_skip_reason=None,
    )  # fmt: skip


def order_completed() -> OrderCompleted:
    return OrderCompleted(
        **_ORDER, **_RENEWAL, origin="checkout", cart_type="subscription", payment_number=PAYMENT_NUMBER,
        order_date=date(2025, 1, 1), buyer=buyer(), shipping=shipping(), lines=lines(), fees=fees(),
        total=7610, payment_method_name="クレジットカード決済", pay_type="01", sales_mode="auth",
        payment_status="authorized", subscription=terms(),
    )  # fmt: skip


def order_rejected() -> OrderRejected:
    return OrderRejected(
        **_ORDER, payment_number=PAYMENT_NUMBER, reason_code="payment_declined",
        reason="the card was declined (G12)", buyer_message="クレジットカード会社にお問い合わせください",
    )  # fmt: skip


def order_needs_review() -> OrderNeedsReview:
    return OrderNeedsReview(
        **_ORDER, payment_number=PAYMENT_NUMBER, reason_code="payment_outcome_unknown",
        reason="1Auth timed out after sending", attempt_id="att-1",
        buyer_message="ショップ様にお問い合わせください",
    )  # fmt: skip


def payment_authorized() -> PaymentAuthorized:
    return PaymentAuthorized(
        **_PAYMENT, amount=7610, pay_type="01", captured=False, card_source="member",
        transaction_id="TX0000000001", approval_number="0123456", resolution="gateway",
    )  # fmt: skip


def payment_authentication_required() -> PaymentAuthenticationRequired:
    return PaymentAuthenticationRequired(
        **_PAYMENT, amount=7610, action_url="https://www.e-scott.jp/online/tds/OTDS010.do",
        sealed_form="gAAAAABsealed-form-fields", deadline=datetime(2025, 2, 1, 3, 15, tzinfo=UTC),
    )  # fmt: skip


def charge_authenticated_payment() -> ChargeAuthenticatedPayment:
    return ChargeAuthenticatedPayment(order_id="ord-0001", shop_id="demo-shop", requested_by="three_d_secure_return")


def payment_declined() -> PaymentDeclined:
    return PaymentDeclined(
        **_PAYMENT, amount=7610, operation="1Auth", codes=["G12"], descriptions=["カード使用不可"],
        buyer_message="クレジットカード会社にお問い合わせください",
    )  # fmt: skip


def payment_outcome_unknown() -> PaymentOutcomeUnknown:
    return PaymentOutcomeUnknown(
        **_PAYMENT, attempt_id="att-1", operation="1Auth", amount=7610, reason="timeout"
    )


def payment_captured() -> PaymentCaptured:
    return PaymentCaptured(
        **_PAYMENT, amount=7610, transaction_id="TX0000000001", sales_date=date(2025, 1, 5),
        requested_by="operator:ops-1",
    )  # fmt: skip


def payment_canceled() -> PaymentCanceled:
    return PaymentCanceled(
        **_PAYMENT, amount=7610, transaction_id="TX0000000001", requested_by="operator:ops-1"
    )


def payment_amount_updated() -> PaymentAmountUpdated:
    return PaymentAmountUpdated(
        **_PAYMENT, previous_amount=7610, amount=6500, transaction_id="TX0000000002",
        previous_transaction_id="TX0000000001", previous_hold_released=True, requested_by="operator:ops-1",
    )  # fmt: skip


def payment_operation_failed() -> PaymentOperationFailed:
    return PaymentOperationFailed(
        **_PAYMENT, operation="capture", outcome="declined", gateway_operation="1Capture", codes=["K14"],
        descriptions=["取引状態不正"], reason="the gateway refused the capture", requested_by="automation",
    )  # fmt: skip


def card_linked() -> CardLinked:
    return CardLinked(
        shop_id="demo-shop", member_id="m-1001", order_id="ord-0001", replaced=False,
        masked_card="4111********1111", card_expiry="2030-12", source="checkout",
    )  # fmt: skip


def card_unlinked() -> CardUnlinked:
    return CardUnlinked(
        shop_id="demo-shop", member_id="m-1001", order_id="ord-0002", reason="link_mode_never"
    )


def shop_settings_changed() -> ShopSettingsChanged:
    card = CardMethodSettings(
        configured=True, display_name="クレジットカード決済", min_amount=1, max_amount=300000,
        note=CardNote(text="VISA/Master 利用可", on_payment_page=True, in_thanks_mail=True),
        logo_url="https://shop.example.jp/cards.png", logo_alt="VISA Master", sales_mode="auth",
        show_installments=True, card_link_mode="always", subscriptions_enabled=True,
        renewal_sales_mode="auth", authorize_at_renewal=True, contract_start=date(2024, 4, 1),
        contract_end=date(2027, 3, 31),
    )  # fmt: skip
    return ShopSettingsChanged(
        shop_id="demo-shop",
        shop_name="デモ茶舗",
        mail=MailSettings(
            sender_address="shop@example.jp", sender_name="デモ茶舗", shop_copy_address="orders@example.jp"
        ),
        carriers=[Carrier(carrier_id="yamato", name="ヤマト運輸", accepts_card=True)],
        card=card,
    )


def renewal_order_requested() -> RenewalOrderRequested:
    return RenewalOrderRequested(
        subscription_id="sub-0001", cycle_no=2, shop_id="demo-shop", scheduled_for=date(2025, 2, 1),
        first_order_id="ord-0001", buyer=buyer(), shipping=shipping(), lines=lines(), fees=fees(),
        terms=terms(),
    )  # fmt: skip


def subscription_started() -> SubscriptionStarted:
    return SubscriptionStarted(
        subscription_id="sub-0001", shop_id="demo-shop", member_id="m-1001", first_order_id="ord-0001",
        terms=terms(), started_on=date(2025, 1, 1), next_cycle_on=date(2025, 2, 1), buyer=buyer(),
        shipping=shipping(), lines=lines(), fees=fees(), status="active",
    )  # fmt: skip


def subscription_changed() -> SubscriptionChanged:
    return SubscriptionChanged(
        subscription_id="sub-0001", shop_id="demo-shop", member_id="m-1001", change="canceled", status="active",
        next_cycle_on=None, terms=terms(), ends_on=date(2025, 3, 1), changed_by="buyer", reason="moving abroad",
    )  # fmt: skip


def renewal_cycle_settled() -> RenewalCycleSettled:
    return RenewalCycleSettled(
        subscription_id="sub-0001", shop_id="demo-shop", member_id="m-1001", cycle_no=2, order_id="ord-0002",
        outcome="payment_failed", reason_code="card_declined",
    )  # fmt: skip


def card_replaced() -> CardReplaced:
    return CardReplaced(shop_id="demo-shop", member_id="m-1001", card_expiry="2030-12", source="my_page")


def renewal_card_expiring() -> RenewalCardExpiring:
    return RenewalCardExpiring(
        subscription_id="sub-0001", shop_id="demo-shop", member_id="m-1001", cycle_no=3,
        next_cycle_on=date(2025, 3, 1), card_expiry="2025-02",
    )  # fmt: skip


def renewal_payment_failed() -> RenewalPaymentFailed:
    return RenewalPaymentFailed(
        **_ORDER, **_RENEWAL, payment_number=PAYMENT_NUMBER, order_date=date(2025, 2, 1), buyer=buyer(),
        total=7610, reason_code="card_declined", reason="the card was declined (G12)",
        buyer_message="クレジットカード会社にお問い合わせください",
    )  # fmt: skip


def mail_sent() -> MailSent:
    return MailSent(
        **_MAIL, mail_id="mail-1", kind="thanks", message_id="<ord-0001.thanks.1@demo-shop.example>",
        sent_at=datetime(2025, 1, 1, 3, 0, tzinfo=UTC), smtp_response="250 2.0.0 Ok",
    )  # fmt: skip


def mail_failed() -> MailFailed:
    return MailFailed(
        **_MAIL, mail_id="mail-2", kind="shop_copy", last_error="550 mailbox unavailable", permanent=True
    )


def mail_sent_v2() -> MailSentV2:
    return MailSentV2(
        **_MAIL, mail_id="mail-3", kind="renewal_failed_buyer", message_id="<ord-0001.renewal.1@demo-shop.example>",
        sent_at=datetime(2025, 2, 1, 3, 0, tzinfo=UTC), smtp_response="250 2.0.0 Ok",
    )  # fmt: skip


def mail_failed_v2() -> MailFailedV2:
    return MailFailedV2(
        **_MAIL, mail_id="mail-4", kind="renewal_skipped_shop", last_error="550 mailbox unavailable", permanent=True
    )


def order_amount_changed() -> OrderAmountChanged:
    return OrderAmountChanged(
        order_id="ord-0001", shop_id="demo-shop", checkout_id="chk-0001", payment_number=PAYMENT_NUMBER,
        previous_amount=7610, amount=6410, lines=lines(), shipping=shipping(), fees=fees(), edited_by="ops-1",
    )  # fmt: skip


def payment_hold_released() -> PaymentHoldReleased:
    return PaymentHoldReleased(**_PAYMENT, amount=7610, transaction_id="TX0000000001", requested_by="ops-1")


def capture_payment() -> CapturePayment:
    return CapturePayment(order_id="ord-0001", shop_id="demo-shop", requested_by="shipping-bot", amount=7610)


def cancel_payment() -> CancelPayment:
    return CancelPayment(order_id="ord-0001", shop_id="demo-shop", requested_by="shipping-bot")


def update_payment_amount() -> UpdatePaymentAmount:
    return UpdatePaymentAmount(order_id="ord-0001", shop_id="demo-shop", requested_by="shipping-bot", amount=6410)


SAMPLES: dict[str, Callable[[], Event]] = {
    factory().TYPE: factory
    for factory in (
        checkout_requested,
        order_placed,
        order_completed,
        order_rejected,
        order_needs_review,
        payment_authorized,
        payment_declined,
        payment_outcome_unknown,
        payment_captured,
        payment_canceled,
        payment_amount_updated,
        payment_operation_failed,
        card_linked,
        card_unlinked,
        shop_settings_changed,
        renewal_order_requested,
        subscription_started,
        mail_sent,
        mail_failed,
        order_amount_changed,
        payment_hold_released,
        capture_payment,
        cancel_payment,
        update_payment_amount,
        renewal_payment_failed,
        subscription_changed,
        renewal_cycle_settled,
        mail_sent_v2,
        mail_failed_v2,
        card_replaced,
        renewal_card_expiring,
        payment_authentication_required,
        charge_authenticated_payment,
    )
}
"""Type name -> factory of a representative instance."""
