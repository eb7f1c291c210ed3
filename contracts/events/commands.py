"""Commands to the payment service on `payments.commands` (key = order id), for shop automation such as
"capture on shipment". They follow the same rules as the operator HTTP API (R12/R13); the result of each is an
event on `payments.events`: `PaymentCaptured`, `PaymentCanceled`, `PaymentAmountUpdated`, or
`PaymentOperationFailed` (refused by the rules, declined by the gateway, or outcome unknown).

A command is applied once per envelope `event_id` (the payment service's inbox): resend the same envelope to
retry delivery safely; a new envelope is a new request (and is refused if the first one already did the work).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.events.base import Event
from contracts.topics import PAYMENTS_COMMANDS
from contracts.types import Identifier, Yen


class PaymentCommand(Event):
    """Fields every payment command has. Not a command type itself."""

    TOPIC: ClassVar[str] = PAYMENTS_COMMANDS
    KEY_FIELD: ClassVar[str] = "order_id"

    order_id: Identifier
    shop_id: Identifier
    requested_by: str | None = Field(default=None, description="Who asks (automation or operator name).")


class CapturePayment(PaymentCommand):
    """Record the sale of the order's authorization (1Capture, SalesDate = today in JST).

    Capture always uses the current hold, which must equal the order's current total (R12). `amount`, when
    given, is what the sender expects to capture: the command is refused if it differs. `order_total`, when
    given, is the order total the sender saw in checkout: refused (`order_total_stale`) while the payment service
    has not heard of that total yet (an edit's `order.amount_changed.v1` still on its way).
    """

    TYPE: ClassVar[str] = "payment.capture_requested.v1"

    amount: Yen | None = Field(default=None, description="Expected capture amount (a guard), if given.")
    order_total: Yen | None = Field(
        default=None, description="The order total the sender saw in checkout. While the payment service knows "
        "another (checkout's edit has not reached it yet), the command is refused with reason `order_total_stale` "
        "and nothing is sent to the gateway (R12). Omitted: not checked.")


class CancelPayment(PaymentCommand):
    """Void the order's authorization (1Delete). Only in `auth` mode and before capture (R12, R13)."""

    TYPE: ClassVar[str] = "payment.cancel_requested.v1"


class UpdatePaymentAmount(PaymentCommand):
    """Move the hold to the order's current total (取引更新, design §6.5): new hold first, then the old one voided.

    `amount`, when given, must equal the order's current total as the payment service knows it (from
    `order.amount_changed.v1`); ¥0 and the current hold amount are refused.
    """

    TYPE: ClassVar[str] = "payment.amount_update_requested.v1"

    amount: Yen | None = Field(default=None, description="The new amount; defaults to the order's total.")
    order_total: Yen | None = Field(
        default=None, description="The order total the sender saw in checkout. While the payment service knows "
        "another (checkout's edit has not reached it yet), the command is refused with reason `order_total_stale` "
        "and nothing is sent to the gateway (R12). Omitted: not checked.")


class ChargeAuthenticatedPayment(PaymentCommand):
    """Payment to itself (design §6.7): the buyer's 3-D Secure return was recorded; link/charge the card now with
    the result fields. Acts only on a payment whose authentication was recorded and accepted; otherwise nothing."""

    TYPE: ClassVar[str] = "payment.authenticated_charge_requested.v1"
