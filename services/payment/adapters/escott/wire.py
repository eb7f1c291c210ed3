"""e-SCOTT on the wire: the values a call takes and returns, and how an HTTP answer is classified (design §6.2).

- ``ok``: ``ResponseCd=OK`` (and ``TokenResponseCd=OK`` for 1TokenSearch);
- ``declined``: the gateway answered with codes (a K40 reply still carries the ProcessId of its live hold);
- ``not_sent``: failed before any byte left (connect refused/timeout, pool timeout): safe to retry;
- ``unknown``: anything after sending — read timeout, reset, 5xx, unparsable or mismatched reply. The
  outcome may have happened; never retry automatically (there is no idempotency key).

Secrets (MerchantPass, KaiinPass, ProcessPass, Token, card data) are ``SecretStr`` in and out, and never
appear in reprs, logs or exception messages. ``Outcome`` is the domain's (one vocabulary for how a call ended).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote_plus

from pydantic import SecretStr

from services.payment.domain.gateway import Outcome

SECRET_REPLY_FIELDS: Final = frozenset(
    {"ProcessPass", "CardNo", "CardExp", "KaiinPass", "NewKaiinPass", "Token"})
_CODE = re.compile(r"[A-Z][0-9A-Z]{1,3}\Z")
_KEY = re.compile(r"[A-Za-z0-9_]+\Z")


@dataclass(frozen=True)
class MerchantConfig:
    """One shop's e-SCOTT credentials."""

    merchant_id: str
    merchant_pass: SecretStr
    tenant_id: str = "0001"


@dataclass(frozen=True)
class MerchantRefs:
    """MerchantFree1–3: echoed by the gateway; design R14 puts the payment number and buyer name here."""

    free1: str = ""
    free2: str = ""
    free3: str = ""


@dataclass(frozen=True)
class TokenSource:
    """A one-time token from the browser's token script."""

    token: SecretStr


@dataclass(frozen=True)
class CardSource:
    """Raw card data (only for tests and tools: production uses tokens)."""

    card_no: SecretStr
    card_exp: SecretStr  # YYMM
    sec_cd: SecretStr | None = None


@dataclass(frozen=True)
class Member:
    """A stored-card member (KaiinId/KaiinPass)."""

    kaiin_id: str
    kaiin_pass: SecretStr


@dataclass(frozen=True)
class ProcessRef:
    """The ProcessId/ProcessPass pair that names a transaction."""

    process_id: str
    process_pass: SecretStr


CardInput = TokenSource | CardSource
Source = TokenSource | CardSource | Member


@dataclass(frozen=True, kw_only=True)
class EscottResult:
    """A classified gateway reply; secret reply fields are in ``secrets`` (SecretStr), never ``fields``."""

    operate_id: str
    outcome: Outcome
    codes: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, SecretStr] = field(default_factory=dict, repr=False)
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True only for ``ResponseCd=OK``."""
        return self.outcome is Outcome.OK

    @property
    def transaction_id(self) -> str | None:
        """The gateway's TransactionId of this call (present on errors too)."""
        return self.fields.get("TransactionId")

    @property
    def process(self) -> ProcessRef | None:
        """The ProcessId/ProcessPass in the reply (Master, 1ReAuth and Process replies)."""
        if "ProcessId" not in self.fields or "ProcessPass" not in self.secrets:
            return None
        return ProcessRef(self.fields["ProcessId"], self.secrets["ProcessPass"])

    @property
    def masked_card_no(self) -> str | None:
        """First 4 + last 4 digits of a member's card (4MemRef/4MemRefM), never the full number."""
        card = self.secrets.get("CardNo")
        if card is None:
            return None
        pan = card.get_secret_value()
        return pan[:4] + "*" * max(len(pan) - 8, 0) + pan[-4:]

    @property
    def card_exp(self) -> str | None:
        """The member's card expiry as the gateway sent it (`CardExp`, YYMM) from a member reference."""
        exp = self.secrets.get("CardExp")
        return exp.get_secret_value() if exp is not None else None


def parse_reply(body: bytes) -> dict[str, str] | None:
    """``k=v&k=v`` into a dict, or ``None`` when the body is not that shape (garbage, HTML, empty)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    pairs = [part.split("=", 1) for part in text.split("&")] if text else []
    if not pairs or any(len(p) != 2 or not _KEY.match(p[0]) for p in pairs):
        return None
    return {key: unquote_plus(value) for key, value in pairs}


def classify(operate_id: str, status: int, body: bytes) -> EscottResult:
    """Turn an HTTP answer into a result: only a well-formed 200 reply to *this* OperateId counts."""
    if status != 200:
        return EscottResult(operate_id=operate_id, outcome=Outcome.UNKNOWN, reason=f"HTTP {status}")
    reply = parse_reply(body)
    if reply is None or "ResponseCd" not in reply or "TransactionId" not in reply:
        return EscottResult(operate_id=operate_id, outcome=Outcome.UNKNOWN, reason="unparsable reply")
    if reply.get("OperateId") != operate_id:
        return EscottResult(operate_id=operate_id, outcome=Outcome.UNKNOWN, reason="reply for another OperateId")
    raw = [*reply["ResponseCd"].split("|"), *reply.get("TokenResponseCd", "").split("|")]
    codes = tuple(c for c in raw if c and c != "OK")
    if any(not _CODE.match(c) for c in codes) or (not codes and reply["ResponseCd"] != "OK"):
        return EscottResult(operate_id=operate_id, outcome=Outcome.UNKNOWN, reason="unparsable ResponseCd")
    fields = {k: v for k, v in reply.items() if k not in SECRET_REPLY_FIELDS}
    secrets = {k: SecretStr(v) for k, v in reply.items() if k in SECRET_REPLY_FIELDS}
    return EscottResult(operate_id=operate_id, outcome=Outcome.DECLINED if codes else Outcome.OK, codes=codes,
                        fields=fields, secrets=secrets)
