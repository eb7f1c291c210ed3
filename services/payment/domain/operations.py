"""Gateway operations as the domain sees them: which OperateId, and how a call ended (design §6.2, R11)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Operation(StrEnum):
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


CHARGES = frozenset({Operation.AUTH, Operation.GATHERING})
PROCESS_CALLS = frozenset({Operation.DELETE, Operation.CAPTURE, Operation.CHANGE, Operation.REAUTH, Operation.SEARCH})
"""Calls naming a transaction by its ProcessId/ProcessPass (they carry KaiinId iff the charge used one)."""
LINKS = frozenset({Operation.MEM_ADD, Operation.MEM_CHG})
MEMBER_OPERATIONS = frozenset({*LINKS, Operation.MEM_INVAL, Operation.MEM_DEL, Operation.MEM_REF})


class SalesMode(StrEnum):
    """R11: `auth` reserves only (captured later by hand); `auth_capture` reserves and records the sale."""

    AUTH = "auth"
    AUTH_CAPTURE = "auth_capture"


def charge_operation(mode: SalesMode) -> Operation:
    """R11: 1Auth for `auth`, 1Gathering for `auth_capture`."""
    return Operation.GATHERING if mode is SalesMode.AUTH_CAPTURE else Operation.AUTH


class Outcome(StrEnum):
    """How a call ended as far as we can know: only `not_sent` is certain to have had no effect but `declined`."""

    OK = "ok"
    DECLINED = "declined"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reply:
    """The non-secret part of a gateway answer. `process_id` is set when a hold exists (OK, or a K40 decline)."""

    outcome: Outcome
    codes: tuple[str, ...] = ()
    transaction_id: str | None = None
    approval_number: str | None = None
    process_id: str | None = None
    reason: str = ""
