"""Whether the card method is offered for a cart, and whether a checkout is acceptable (design R1-R10).

Every refusal is a `Rejection` with a stable code (what a storefront branches on), the rule it comes from
and a precise message (what its developer reads). Checks run in a fixed order and all failures are
reported; the first one is *the* reason of an `OrderRejected`. The same checks answer the storefront's
availability question, so a method shown as offered is one a checkout will not refuse for the cart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from services.checkout.domain.shop import CardMethod, Shop
from services.checkout.domain.values import CartType, CheckoutRequest

LUMP_SUM = "01"
CARD_AMOUNT_LIMIT = 99_999_999
"""The largest amount e-SCOTT's `Amount` can carry (at most 8 digits, K23; protocol reference §3). Above it no
card payment is possible, whatever the shop's own maximum (R3)."""
PAY_TYPES: dict[str, str] = {
    "01": "一括払い", **{f"{n:02d}": f"{n}回払い" for n in (2, 3, 5, 6, 10, 12, 15, 18, 20, 24)},
    "80": "ボーナス一括払い", "88": "リボ払い",
}
"""e-SCOTT PayType values (protocol reference) with the label buyers and operators see."""

BUYER_MESSAGE = "この注文ではクレジットカード決済をご利用いただけません。ショップ様にお問い合わせください"
"""What a buyer is told about any refusal before payment (codes stay for storefronts and operators)."""


@dataclass(frozen=True)
class Rejection:
    code: str
    rule: str
    message: str


@dataclass(frozen=True, kw_only=True)
class CartSummary:
    """What availability depends on: a cart before checkout, or the cart of a checkout request."""

    shop_id: str
    cart_type: CartType
    amount: int
    carrier_id: str | None = None
    has_subscription: bool = False
    member_id: str | None = None
    unknown_fees: tuple[str, ...] = ()
    shipping_fee_known: bool = True


def installment_options(card: CardMethod, cart_type: CartType) -> tuple[str, ...]:
    """R6: the pay types a buyer may choose: all when the shop shows installments; subscriptions lump sum."""
    if cart_type is CartType.SUBSCRIPTION or not card.show_installments:
        return (LUMP_SUM,)
    return tuple(PAY_TYPES)


def effective_pay_type(request: CheckoutRequest) -> str:
    """R6: subscriptions are always lump sum, whatever was requested."""
    return LUMP_SUM if request.cart_type is CartType.SUBSCRIPTION else request.payment.pay_type


def check_availability(shop: Shop | None, cart: CartSummary, today: date) -> list[Rejection]:
    """Why the card method is not offered for this cart (empty: it is offered)."""
    if shop is None:
        return [Rejection("shop_unknown", "R1", f"shop {cart.shop_id!r} does not exist")]
    if shop.card is None or not shop.configured:
        return [_not_configured(shop)]
    card = shop.card
    checks: list[Callable[[], Iterable[Rejection]]] = [
        lambda: _cart_type(card, cart),
        lambda: _carrier(shop, cart.carrier_id),
        lambda: _amount_final(cart),
        lambda: _amount(card, cart),
        lambda: _contract(card, today),
    ]
    return [rejection for check in checks for rejection in check()]


def validate_checkout(shop: Shop | None, request: CheckoutRequest, today: date) -> list[Rejection]:
    """Every reason to refuse `request` before payment (empty: accept it)."""
    found = check_availability(shop, summarize(request), today)
    if shop is None or shop.card is None or not shop.configured:
        return found
    if not request.lines:
        found.insert(0, Rejection("cart_empty", "cart", "the cart has no lines"))
    return [*found, *_card_source(request), *_pay_type(shop.card, request)]


def renewal_skip(shop: Shop, request: CheckoutRequest, today: date) -> Rejection | None:
    """R21: why a renewal order is generated without authorization (None: authorize it). A renewal is never
    refused: the cycle always gets its order (R20, I4); these reasons only keep the gateway out of it."""
    if shop.card is None or not shop.configured:
        return _not_configured(shop)
    card = shop.card
    if not card.authorize_at_renewal:
        return Rejection("authorize_at_renewal_off", "R21", "the shop does not authorize renewal orders")
    cart = summarize(request)
    found = [*_amount_final(cart), *_amount(card, cart), *_contract(card, today)]
    return found[0] if found else None


def summarize(request: CheckoutRequest) -> CartSummary:
    lines = sum(line.subtotal for line in request.lines)
    known = (request.shipping.fee or 0) + sum(f.amount or 0 for f in request.fees)
    return CartSummary(
        shop_id=request.shop_id, cart_type=request.cart_type, amount=lines + known,
        carrier_id=request.shipping.carrier_id, has_subscription=request.subscription is not None,
        member_id=request.buyer.member_id, shipping_fee_known=request.shipping.fee is not None,
        unknown_fees=tuple(f.name for f in request.fees if f.amount is None),
    )  # fmt: skip


def _not_configured(shop: Shop) -> Rejection:
    if shop.card is None:
        return Rejection("card_method_not_configured", "R1", "the card method is not added to this shop")
    return Rejection("card_method_not_configured", "R1",
                     f"the card method is not fully configured (missing: {', '.join(shop.missing())})")


def _cart_type(card: CardMethod, cart: CartSummary) -> Iterable[Rejection]:
    if cart.cart_type is CartType.ZERO_STEP and cart.has_subscription:
        yield Rejection("subscription_in_zero_step", "R5", "subscriptions are not available in a zero_step cart")
    elif cart.cart_type is CartType.THREE_STEP and cart.has_subscription:
        yield Rejection("subscription_terms_unexpected", "R5",
                        "subscription terms are accepted only in a subscription cart")
    if cart.cart_type is not CartType.SUBSCRIPTION:
        return
    if not card.subscriptions_enabled:
        yield Rejection("subscriptions_disabled", "R11", "the shop has not enabled subscriptions for the card method")
    if cart.member_id is None:
        yield Rejection("subscription_requires_member", "R10",
                        "a subscription links the card, and guests never link: a member is required")


def _carrier(shop: Shop, carrier_id: str | None) -> Iterable[Rejection]:
    if carrier_id is None:
        return
    carrier = shop.carrier(carrier_id)
    if carrier is None:
        yield Rejection("carrier_unknown", "R1", f"carrier {carrier_id!r} is not one of the shop's carriers")
    elif not carrier.accepts_card:
        yield Rejection("carrier_excludes_card", "R1", f"carrier {carrier_id!r} does not accept the card method")


def _amount_final(cart: CartSummary) -> Iterable[Rejection]:
    if not cart.shipping_fee_known:
        yield Rejection("shipping_fee_unknown", "R2",
                        "the shipping fee is 'to be advised': a card payment needs the final amount")
    for name in cart.unknown_fees:
        yield Rejection("fee_unknown", "R2",
                        f"the fee {name!r} is 'to be advised': a card payment needs the final amount")


def _amount(card: CardMethod, cart: CartSummary) -> Iterable[Rejection]:
    if not cart.shipping_fee_known or cart.unknown_fees:
        return
    if cart.amount < 1:
        what = "a subscription at ¥0 cannot use the card method" if cart.cart_type is CartType.SUBSCRIPTION \
            else "a card payment needs at least ¥1"
        yield Rejection("amount_zero", "R4", f"the amount is ¥0: {what}")
    elif card.min_amount is not None and cart.amount < card.min_amount:
        yield Rejection("amount_below_minimum", "R3",
                        f"the amount ¥{cart.amount:,} is below the card method's minimum of ¥{card.min_amount:,}")
    elif card.max_amount is not None and cart.amount > card.max_amount:
        yield Rejection("amount_above_maximum", "R3",
                        f"the amount ¥{cart.amount:,} is above the card method's maximum of ¥{card.max_amount:,}")
    elif cart.amount > CARD_AMOUNT_LIMIT:
        yield Rejection("amount_above_card_limit", "gateway",
                        f"the amount ¥{cart.amount:,} is above what a card payment can carry (¥{CARD_AMOUNT_LIMIT:,})")


def _contract(card: CardMethod, today: date) -> Iterable[Rejection]:
    if not card.within_contract(today):
        yield Rejection("outside_contract_period", "contract",
                        f"{today.isoformat()} (JST) is outside the shop's gateway contract period")


def _card_source(request: CheckoutRequest) -> Iterable[Rejection]:
    payment = request.payment
    if payment.has_token and payment.use_registered_card:
        yield Rejection("card_source_ambiguous", "R7", "send either a token or use_registered_card, not both")
    elif not payment.has_token and not payment.use_registered_card:
        yield Rejection("card_missing", "R7", "no card: send a token, or use_registered_card for a member")
    elif payment.use_registered_card and not request.buyer.is_member:
        yield Rejection("registered_card_requires_member", "R10", "guests have no registered card")


def _pay_type(card: CardMethod, request: CheckoutRequest) -> Iterable[Rejection]:
    requested = request.payment.pay_type
    if request.cart_type is CartType.SUBSCRIPTION:
        return  # R6: normalised to lump sum, never refused
    if requested not in PAY_TYPES:
        yield Rejection("pay_type_invalid", "R6",
                        f"pay_type {requested!r} is not an e-SCOTT payment division ({', '.join(PAY_TYPES)})")
    elif requested not in installment_options(card, request.cart_type):
        yield Rejection("installments_not_offered", "R6",
                        f"pay_type {requested} requested, but the shop does not offer installments (only 01)")
