"""Gateway calls as the domain sees them (design §6.2, R11).

Vocabulary, used the same way everywhere in this service:

- a **gateway operation** (`GatewayOperation`) is one e-SCOTT call, named by its OperateId (1Auth, 1Capture,
  4MemAdd ...); each is recorded as an attempt before it is sent (`domain/attempts.py`);
- an **operator action** (`domain/actions.py`) is what an operator or automation asks for on a payment
  (capture, cancel, update_amount, release_previous_hold); it runs one or more gateway operations, its steps.

`PlannedCall` is the gateway operation a flow wants to send next, with everything about it but the secrets:
the handler adds credentials, the member's KaiinPass, the ProcessPass and the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

JST = timezone(timedelta(hours=9))


class GatewayOperation(StrEnum):
    """The e-SCOTT OperateIds this service sends."""

    AUTH = "1Auth"
    GATHERING = "1Gathering"
    DELETE = "1Delete"
    CAPTURE = "1Capture"
    CHANGE = "1Change"
    REAUTH = "1ReAuth"
    SEARCH = "1Search"
    MEM_ADD = "4MemAdd"
    MEM_CHG = "4MemChg"
    MEM_INVAL = "4MemInval"
    MEM_DEL = "4MemDel"
    MEM_REF = "4MemRefM"
    SECURE = "3Secure"  # never sent by this service: the buyer's browser carries it (design §6.7)
    TOKEN_SEARCH = "1TokenSearch"  # noqa: S105 - an OperateId, not a secret


CHARGES = frozenset({GatewayOperation.AUTH, GatewayOperation.GATHERING})
PROCESS_CALLS = frozenset({GatewayOperation.DELETE, GatewayOperation.CAPTURE, GatewayOperation.CHANGE,
                           GatewayOperation.REAUTH, GatewayOperation.SEARCH})
"""Calls naming a transaction by its ProcessId/ProcessPass (they carry KaiinId iff the charge used one)."""
LINKS = frozenset({GatewayOperation.MEM_ADD, GatewayOperation.MEM_CHG})
MEMBER_CALLS = frozenset({*LINKS, GatewayOperation.MEM_INVAL, GatewayOperation.MEM_DEL, GatewayOperation.MEM_REF})
NEW_HOLD = frozenset({*CHARGES, GatewayOperation.REAUTH})
"""Calls whose reply names a new hold: its ProcessPass becomes the payment's current one."""


class SalesMode(StrEnum):
    """R11: `auth` reserves only (captured later by hand); `auth_capture` reserves and records the sale."""

    AUTH = "auth"
    AUTH_CAPTURE = "auth_capture"


def charge_operation(mode: SalesMode) -> GatewayOperation:
    """R11: 1Auth for `auth`, 1Gathering for `auth_capture`."""
    return GatewayOperation.GATHERING if mode is SalesMode.AUTH_CAPTURE else GatewayOperation.AUTH


def business_date(moment: datetime) -> date:
    """SalesDate and other business dates are JST calendar dates (design §4)."""
    return moment.astimezone(JST).date()


class Outcome(StrEnum):
    """How a call ended as far as we can know: only `not_sent` is certain to have had no effect but `declined`."""

    OK = "ok"
    DECLINED = "declined"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class Reply:
    """The non-secret part of a gateway answer. `process_id` is set when a hold exists (OK, or a K40 decline);
    `amount` is the transaction's current Amount a 1Search returns."""

    outcome: Outcome
    codes: tuple[str, ...] = ()
    transaction_id: str | None = None
    approval_number: str | None = None
    process_id: str | None = None
    reason: str = ""
    amount: int | None = None


class Hold(StrEnum):
    """Which hold's ProcessId/ProcessPass names the transaction of a call."""

    CURRENT = "current"
    PREVIOUS = "previous"  # the hold an amount update replaced, being released


@dataclass(frozen=True, kw_only=True)
class PlannedCall:
    """The next gateway operation of a flow, decided by the domain; the handler adds the secrets and records it.

    `member`: send the KaiinId/KaiinPass of `kaiin_id`; `token`: send the order's one-time token; `hold`: name
    that hold's transaction; `sales_date`: send today's business date. `resends`: sends of this call that
    certainly did not leave (the caller pauses before the next). `attempt_id` is set when the domain named the
    attempt already (an operator action's step); `action`, `requested_by` and `recorded_amount` go to the
    operation history (R15).
    """

    operation: GatewayOperation
    shop_id: str
    order_id: str | None = None
    amount: int = 0
    pay_type: str = "01"
    payment_number: str = ""
    buyer_name: str = ""
    kaiin_id: str | None = None
    member: bool = False
    token: bool = False
    hold: Hold | None = None
    sales_date: bool = False
    resends: int = 0
    attempt_id: str | None = None
    action: str | None = None
    requested_by: str | None = None
    three_d_secure: tuple[tuple[str, str], ...] = ()  # a charge after 3-D Secure carries its result fields
    recorded_amount: int | None = None


class CallImpossible(Exception):
    """A planned call lacks what it needs (credentials, the transaction's pair, the member's key)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

