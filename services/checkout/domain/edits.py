"""Operator edits of a completed order (quantities, prices, shipping, fees): a new total, never a new status.

R12: an edited total is not captured as is; payment learns the new total (`OrderAmountChanged`) and refuses
to capture until the hold is updated to it. R13: after capture (or in auth_capture mode) the sale is
recorded, so the amount can no longer be edited here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.checkout.domain.order import Order, OrderStatus, PaymentStatus
from services.checkout.domain.rules import CARD_AMOUNT_LIMIT
from services.checkout.domain.values import Fee, Line


class EditRefused(Exception):
    """An order edit the rules refuse; `conflict`: the order's state (HTTP 409), else the edit itself (422)."""

    def __init__(self, code: str, message: str, *, conflict: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.conflict = conflict


@dataclass(frozen=True)
class OrderEdit:
    """An operator's change to a completed order; None keeps that part as it was."""

    lines: tuple[Line, ...] | None = None
    shipping_fee: int | None = None
    fees: tuple[Fee, ...] | None = None


def edit_order(order: Order, edit: OrderEdit) -> Order:
    """The order with edited lines, shipping fee or fees and its new total (R12: payment then needs an update).

    Only a completed order whose payment is an uncaptured authorization can change its amount: after capture
    (or in auth_capture mode) the sale is recorded and only Sony's screen can change it (R13).
    """
    if order.status is not OrderStatus.COMPLETED or order.payment_status is not PaymentStatus.AUTHORIZED:
        raise EditRefused("order_not_editable", f"the order is {order.status} with payment {order.payment_status}: "
                          "only a completed order with an uncaptured authorization can be edited")
    request = order.request
    lines = request.lines if edit.lines is None else edit.lines
    if not lines:
        raise EditRefused("cart_empty", "an order needs at least one line; cancel the payment instead",
                          conflict=False)
    fee = request.shipping.fee if edit.shipping_fee is None else edit.shipping_fee
    edited = replace(request, lines=lines, shipping=replace(request.shipping, fee=fee),
                     fees=request.fees if edit.fees is None else edit.fees)
    total = edited.total
    if total is None:
        raise EditRefused("fee_unknown", "R2: every fee must be known", conflict=False)
    if total < 1:
        raise EditRefused("amount_zero", "R4: the order total must be at least ¥1; cancel the payment instead",
                          conflict=False)
    if total > CARD_AMOUNT_LIMIT:
        raise EditRefused("amount_above_card_limit", f"the new total ¥{total:,} is above what a card payment can "
                          f"carry (¥{CARD_AMOUNT_LIMIT:,})", conflict=False)
    return replace(order, request=edited, amount=total, version=order.version + 1)
