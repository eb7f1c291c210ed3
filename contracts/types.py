"""Scalar types shared by every event contract.

Each alias states a wire rule once (design §4): money is integer JPY, timestamps are UTC, business dates are
JST calendar dates, payment numbers are 20 digits. Business rules (R1-R22) are deliberately *not* encoded
here: a value that is well-formed but not acceptable (a fee "to be advised", ¥0) must reach the service that
owns the rule, so it can answer with a reason instead of a dead letter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, PlainSerializer, SecretStr, StringConstraints

Yen = Annotated[int, Field(ge=0, description="Integer Japanese yen, never negative.")]
"""A non-negative amount of money in JPY (the currency has no minor unit)."""

NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
"""A string that must carry something (identifiers, names)."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""An opaque identifier (shop, order, checkout, member, subscription ...)."""

PaymentNumber = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{20}$"),
    Field(description="Our 20-digit payment reference, sent to e-SCOTT as MerchantFree1 (R14)."),
]

PayType = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{2}$"),
    Field(description="e-SCOTT PayType: 01 lump sum, 02-24 installments, 80 bonus, 88 revolving."),
]


def _to_utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC so every producer writes the same zone."""
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timestamp: timezone-aware (naive values are rejected) and stored in UTC."""


SecretToken = Annotated[
    SecretStr,
    PlainSerializer(lambda v: v.get_secret_value(), return_type=str, when_used="json"),
    Field(description="One-time e-SCOTT card token. Secret: masked in repr/str/logs, sent only in JSON."),
]
"""The one-time card token from Sony's token script.

It is the only secret any event may carry (design I5 exception, see docs/contracts.md): `repr()`, `str()` and
`model_dump()` (python mode) show `**********`; only JSON serialisation (`model_dump(mode="json")`,
`model_dump_json()`, `Envelope.to_bytes()`) writes the real value, because the payment service needs it.
Never log JSON-serialised events.
"""

CartType = Literal["three_step", "zero_step", "subscription"]
SalesMode = Literal["auth", "auth_capture"]
"""R11: `auth` = 1Auth (capture later by hand), `auth_capture` = 1Gathering."""
CardLinkMode = Literal["always", "buyer_choice", "never"]
"""R7-R9: when a member's card is stored at the gateway."""
PaymentMethod = Literal["escott_card"]
IntervalUnit = Literal["day", "week", "month"]
OrderMailKind = Literal["thanks", "shop_copy"]
"""The two mails of a completed order (R23), the kinds of `mail.*.v1`."""
MailKind = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
"""The kind of any mail the notification service sends, in `mail.*.v2`: today `thanks`, `shop_copy`,
`renewal_failed_shop`, `renewal_failed_buyer`, `renewal_skipped_shop`, `renewal_skipped_buyer`. An open set on
purpose: a new kind of mail is not a new contract version, and v2 consumers must accept kinds they do not know."""
