"""Payment outcomes and operations, produced by the payment service on `payments.events` (key = order id).

This topic is public to monitoring (design §4). Events carry gateway identifiers (transaction id, approval
number) and raw result codes for operators, never card data, tokens, passwords or ProcessPass (I5).
Gateway operation names are e-SCOTT `OperateId`s (`1Auth`, `1Gathering`, `1Capture`, `1Delete`,
`1ReAuth`, `1Change`, `4MemAdd`, ...), kept as strings so a new operation is not a breaking change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from contracts.events.base import Event
from contracts.topics import PAYMENTS_EVENTS
from contracts.types import Identifier, NonEmptyStr, PaymentNumber, PayType, Yen

Resolution = Literal["gateway", "operator"]
"""`gateway`: the gateway answered; `operator`: an operator resolved an unknown outcome (design §6.2)."""


class PaymentEvent(Event):
    """Fields every payment event has. Not an event type itself."""

    TOPIC: ClassVar[str] = PAYMENTS_EVENTS
    KEY_FIELD: ClassVar[str] = "order_id"

    order_id: Identifier
    shop_id: Identifier
    payment_number: PaymentNumber


class GatewayCodedEvent(PaymentEvent):
    """Raw e-SCOTT result codes with their descriptions (protocol reference), for operators (R16)."""

    codes: list[str] = Field(default_factory=list, description="Raw result codes, e.g. ['G12'].")
    descriptions: list[str] = Field(default_factory=list, description="One description per code, same order.")

    @model_validator(mode="after")
    def _one_description_per_code(self) -> Self:
        if len(self.codes) != len(self.descriptions):
            raise ValueError("codes and descriptions must have the same length")
        return self


class PaymentAuthorized(PaymentEvent):
    """The gateway reserved (and with `captured`, also recorded the sale of) the order amount."""

    TYPE: ClassVar[str] = "payment.authorized.v1"

    amount: Yen
    pay_type: PayType
    captured: bool = Field(description="True for 1Gathering (auth_capture), false for 1Auth.")
    card_source: Literal["token", "member"] = Field(description="Charged with a token or a stored card.")
    transaction_id: NonEmptyStr = Field(description="e-SCOTT TransactionId.")
    approval_number: str | None = Field(default=None, description="Card company approval number.")
    resolution: Resolution = "gateway"


class PaymentDeclined(GatewayCodedEvent):
    """The gateway refused the payment (or an operator resolved an unknown outcome as not authorized)."""

    TYPE: ClassVar[str] = "payment.declined.v1"

    amount: Yen
    operation: NonEmptyStr = Field(description="The OperateId that was declined, e.g. 1Auth or 4MemAdd.")
    buyer_message: NonEmptyStr = Field(description="The R16 message to show the buyer.")
    resolution: Resolution = "gateway"
    reason: str | None = Field(
        default=None,
        description="Why, when no card decline explains it: gateway_credentials_missing, link_outcome_unknown, ...",
    )
    retry_at: datetime | None = Field(
        default=None,
        description="Renewal orders of shops that opted in to retries: when the authorization is tried again "
        "(UTC). Null: the decline is final.",
    )


class PaymentAuthenticationRequired(PaymentEvent):
    """EMV 3-D Secure (design §6.7): the buyer's browser must take the gateway's authentication before the card is
    charged. `action_url` is the gateway's OTDS010; the form fields (`MerchantId`, `EncryptValue`) are sealed for
    checkout (`delivery.sealing`), which hands them to the storefront. The payment waits until `deadline`, then
    is declined with reason `authentication_abandoned`."""

    TYPE: ClassVar[str] = "payment.authentication_required.v1"

    amount: Yen
    action_url: NonEmptyStr = Field(description="Where the browser POSTs the form: the gateway's OTDS010.")
    sealed_form: NonEmptyStr = Field(description="The form fields as JSON, sealed with the checkout/payment key.")
    deadline: datetime = Field(description="When an authentication the buyer did not finish is abandoned (UTC).")


class PaymentOutcomeUnknown(PaymentEvent):
    """A gateway call may or may not have taken effect (timeout, reset, 5xx, garbage). Never retried."""

    TYPE: ClassVar[str] = "payment.outcome_unknown.v1"

    attempt_id: Identifier
    operation: NonEmptyStr = Field(description="The OperateId of the attempt, e.g. 1Auth.")
    amount: Yen
    reason: NonEmptyStr = Field(
        description="What happened: timeout, connection_reset, http_5xx, unparsable, interrupted."
    )


class PaymentCaptured(PaymentEvent):
    """An authorization was captured (1Capture, 売上確定)."""

    TYPE: ClassVar[str] = "payment.captured.v1"

    amount: Yen
    transaction_id: NonEmptyStr
    sales_date: date = Field(description="SalesDate sent to the gateway (JST).")
    requested_by: str | None = Field(default=None, description="Operator or automation that asked.")


class PaymentCanceled(PaymentEvent):
    """An authorization (or, later, a sale) was voided (1Delete)."""

    TYPE: ClassVar[str] = "payment.canceled.v1"

    amount: Yen
    transaction_id: NonEmptyStr
    requested_by: str | None = None


class PaymentAmountUpdated(PaymentEvent):
    """The held amount changed (取引更新, design §6.5): a new hold first, then the old one released.

    `previous_hold_released` false means cancelling the old hold failed: two live holds, flagged for ops.
    """

    TYPE: ClassVar[str] = "payment.amount_updated.v1"

    previous_amount: Yen
    amount: Yen
    transaction_id: NonEmptyStr = Field(description="TransactionId of the hold now in force.")
    previous_transaction_id: NonEmptyStr
    previous_hold_released: bool
    requested_by: str | None = None


class PaymentOperationFailed(GatewayCodedEvent):
    """An operator/automation operation (capture, cancel, update_amount ...) did not happen.

    `outcome` says whether we refused it (R12/R13, with `reason`), the gateway declined it (raw `codes`),
    or its outcome is unknown.
    """

    TYPE: ClassVar[str] = "payment.operation_failed.v1"

    operation: NonEmptyStr = Field(description="capture, cancel, update_amount, ...")
    outcome: Literal["refused", "declined", "unknown"]
    gateway_operation: str | None = Field(default=None, description="OperateId, if the gateway was called.")
    reason: NonEmptyStr
    requested_by: str | None = None


class PaymentHoldReleased(PaymentEvent):
    """A hold left live by an amount update (`previous_hold_released` false) was voided later (1Delete).

    The order no longer has two live holds; the flag raised with `PaymentAmountUpdated` is cleared.
    """

    TYPE: ClassVar[str] = "payment.hold_released.v1"

    amount: Yen = Field(description="The amount of the released hold.")
    transaction_id: NonEmptyStr = Field(description="TransactionId of the released hold.")
    requested_by: str | None = None
