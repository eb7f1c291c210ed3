"""The per-request context handed to operation functions, and the id generator they share.

Operations are plain functions ``op(call) -> list[str]`` (empty list = ``OK``) that read ``call.params`` and
write reply fields into ``call.out``; the engine adds the common echo fields. Time comes in as ``call.now``
so tests control expiry without sleeping.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from emulator.config import EngineConfig, Merchant
from emulator.state import Ledger

JST = timezone(timedelta(hours=9))
_ALNUM = string.ascii_letters + string.digits


class Stall(Exception):
    """Raised before any state change when a test card asks the gateway never to answer."""


@dataclass
class Ids:
    """Seeded generator of ProcessId/ProcessPass, TransactionId, ApproveNo and tokens."""

    rng: random.Random
    next_transaction: int = 0

    def __post_init__(self) -> None:
        if not self.next_transaction:
            self.next_transaction = 1_000_000_000_000 + self.rng.randrange(10**12)

    def alnum(self, length: int = 32) -> str:
        """A random string of ASCII letters and digits (ProcessId, ProcessPass, tokens)."""
        return "".join(self.rng.choices(_ALNUM, k=length))

    def transaction_id(self) -> str:
        """A fresh 13-digit TransactionId (処理通番): increasing, never reused within a run."""
        value = self.next_transaction
        self.next_transaction += 1
        return str(value)

    def approve_no(self) -> str:
        """A 7-digit approval number."""
        return f"{self.rng.randrange(10_000_000):07d}"


@dataclass(kw_only=True)
class Call:
    """One request being processed."""

    operate_id: str
    params: Mapping[str, str]
    merchant: Merchant
    now: datetime
    ledger: Ledger
    config: EngineConfig
    ids: Ids
    out: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        """A request parameter, or ``""`` when absent."""
        return self.params.get(name, "")

    @property
    def today(self) -> date:
        """The gateway's business date (JST)."""
        return self.now.astimezone(JST).date()

    @property
    def merchant_free(self) -> tuple[str, str, str]:
        """MerchantFree1–3 as sent (empty when absent)."""
        return (self.get("MerchantFree1"), self.get("MerchantFree2"), self.get("MerchantFree3"))


Run = Callable[[Call], list[str]]
Shape = Callable[[Mapping[str, str]], list[str]]


@dataclass(frozen=True, kw_only=True)
class OpSpec:
    """How one OperateId is validated and executed.

    ``required``/``optional`` are checked for format (codes accumulate); ``shape`` adds cross-field
    codes such as ``K01``/``KIJ``; ``tenant_required`` is False for Process messages, where TenantId is
    accepted and ignored (reference §2.1).
    """

    run: Run
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    shape: Shape | None = None
    tenant_required: bool = True


def source_shape(params: Mapping[str, str], allow_member: bool = True) -> list[str]:
    """Exactly one card source (Token | CardNo+CardExp | KaiinId+KaiinPass), else ``K01``; ``KIJ`` for
    Token together with ProcessId."""
    if params.get("Token") and params.get("ProcessId"):
        return ["KIJ"]
    card = bool(params.get("CardNo") or params.get("CardExp"))
    member = allow_member and bool(params.get("KaiinId") or params.get("KaiinPass"))
    sources = [bool(params.get("Token")), card, member]
    complete = (not card or bool(params.get("CardNo") and params.get("CardExp"))) and (
        not member or bool(params.get("KaiinId") and params.get("KaiinPass")))
    return [] if sources.count(True) == 1 and complete else ["K01"]
