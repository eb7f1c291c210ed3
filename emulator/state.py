"""The emulator's ledger: transactions, members, tokens and counters, as plain in-memory records.

No I/O and no protocol rules here: the operation modules decide, this module only holds and indexes, and
renders records as JSON-ready dicts for the admin API (never with passwords, ProcessPass or full PANs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from emulator.cards import Card
from emulator.tds_state import TdsBook


class TxState(StrEnum):
    """Life of a transaction (``ProcessId``) at the gateway."""

    CHECKED = "checked"  # 1Check: no money involved
    AUTHORIZED = "authorized"  # 1Auth / 1ReAuth of an auth: a live hold
    CAPTURED = "captured"  # 1Gathering or 1Capture: sales recorded
    DELETED = "deleted"  # 1Delete: voided or sales cancelled

    @property
    def live(self) -> bool:
        """True while the transaction holds or has charged money."""
        return self in (TxState.AUTHORIZED, TxState.CAPTURED)


class MemberStatus:
    """``KaiinStatus`` values (reference §2.4)."""

    VALID = 0
    CARD_INVALID = 1
    LOCKED = 2
    INVALIDATED = 3
    DELETED = 4


def mask_pan(pan: str) -> str:
    """First 4 and last 4 digits readable, every other digit ``*`` (the emulator's choice, §9.10)."""
    return pan[:4] + "*" * (len(pan) - 8) + pan[-4:]


@dataclass(slots=True, kw_only=True)
class Operation:
    """One accepted call on a transaction, for the ledger's history."""

    operate_id: str
    transaction_id: str
    at: datetime
    amount: int


@dataclass(slots=True, kw_only=True)
class Transaction:
    """A Master-issued transaction, addressed by its ProcessId/ProcessPass pair."""

    merchant_id: str
    tenant_id: str
    process_id: str
    process_pass: str = field(repr=False)
    kind: str  # the Master OperateId: 1Check, 1Auth or 1Gathering
    state: TxState
    amount: int
    card: Card = field(repr=False)
    kaiin_id: str | None
    merchant_free: tuple[str, str, str]
    created_at: datetime
    sales_date: str | None = None
    pay_type: str = ""
    reauth_of: str | None = None
    aliases: list[str] = field(default_factory=list)  # pairs 1ReAuth issued for it in place (``same`` mode)
    history: list[Operation] = field(default_factory=list)
    three_d_secure: dict[str, str] | None = None  # the 3-D Secure result fields the Master carried

    def to_json(self) -> dict[str, Any]:
        """Admin view: state, amount and references, card masked, no ProcessPass."""
        return {
            "merchant_id": self.merchant_id,
            "tenant_id": self.tenant_id,
            "process_id": self.process_id,
            "kind": self.kind,
            "state": self.state.value,
            "amount": self.amount,
            "pay_type": self.pay_type,
            "sales_date": self.sales_date,
            "kaiin_id": self.kaiin_id,
            "card": mask_pan(self.card.pan),
            "merchant_free1": self.merchant_free[0],
            "merchant_free2": self.merchant_free[1],
            "merchant_free3": self.merchant_free[2],
            "created_at": self.created_at.isoformat(),
            "reauth_of": self.reauth_of,
            "aliases": list(self.aliases),
            "three_d_secure": self.three_d_secure,
            "history": [
                {"operate_id": o.operate_id, "transaction_id": o.transaction_id, "at": o.at.isoformat(),
                 "amount": o.amount}
                for o in self.history
            ],
        }


@dataclass(slots=True, kw_only=True)
class Member:
    """A stored card (会員) of one merchant."""

    merchant_id: str
    kaiin_id: str
    kaiin_pass: str = field(repr=False)
    card: Card = field(repr=False)
    enable_date: str
    status: int = MemberStatus.VALID
    failures: int = 0
    decline_code: str | None = None
    decline_times: int | None = None  # charges the switch still declines; None: every charge from now on

    def switch_decline(self, code: str | None, times: int | None = None) -> None:
        """The admin switch: charges by this member decline with ``code`` (the next ``times`` only, if given)."""
        self.decline_code, self.decline_times = code, times if code else None

    def switched_decline(self) -> str | None:
        """The switch's code for a charge by member now, used up by this charge when it counts down."""
        code = self.decline_code
        if code is not None and self.decline_times is not None:
            self.decline_times -= 1
            if self.decline_times <= 0:
                self.switch_decline(None)
        return code

    def to_json(self) -> dict[str, Any]:
        """Admin view of a member, card masked."""
        return {
            "merchant_id": self.merchant_id,
            "kaiin_id": self.kaiin_id,
            "status": self.status,
            "card": mask_pan(self.card.pan),
            "card_exp": self.card.exp,
            "enable_date": self.enable_date,
            "decline_code": self.decline_code,
            "decline_times": self.decline_times,
        }


@dataclass(slots=True, kw_only=True)
class Token:
    """A one-time card token issued by the token script or ``/_emulator/tokens``."""

    value: str = field(repr=False)
    merchant_id: str
    card: Card = field(repr=False)
    created_at: datetime
    used_at: datetime | None = None


@dataclass(slots=True)
class OpCounter:
    """Per-OperateId totals: every request, those answered OK, those answered with codes."""

    requests: int = 0
    ok: int = 0
    errors: int = 0


@dataclass(kw_only=True)
class Ledger:
    """Everything the emulated gateway remembers."""

    transactions: dict[str, Transaction] = field(default_factory=dict)
    pair_aliases: dict[str, tuple[str, str]] = field(default_factory=dict)
    """ProcessId issued by an in-place 1ReAuth -> (the transaction's own ProcessId, the alias's ProcessPass)."""
    by_free1: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    counters: dict[str, OpCounter] = field(default_factory=lambda: defaultdict(OpCounter))
    merchant_failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tds: TdsBook = field(default_factory=TdsBook)

    def add_transaction(self, tx: Transaction) -> None:
        """Store and index a new transaction."""
        self.transactions[tx.process_id] = tx
        if tx.merchant_free[0]:
            self.by_free1[tx.merchant_free[0]].append(tx.process_id)

    def add_alias(self, tx: Transaction, process_id: str, process_pass: str) -> None:
        """Let a further pair name ``tx`` (1ReAuth in place, ``--reauth-pairs same``)."""
        self.pair_aliases[process_id] = (tx.process_id, process_pass)
        tx.aliases.append(process_id)

    def by_pair(self, process_id: str) -> tuple[Transaction | None, str | None]:
        """The transaction a ProcessId names (its own or an alias) and the ProcessPass that goes with it."""
        alias = self.pair_aliases.get(process_id)
        if alias is not None:
            return self.transactions.get(alias[0]), alias[1]
        tx = self.transactions.get(process_id)
        return tx, tx.process_pass if tx is not None else None

    def find_by_free1(self, merchant_free1: str, merchant_id: str | None = None) -> list[Transaction]:
        """Transactions whose MerchantFree1 equals ``merchant_free1`` (Sony's screen searches this way)."""
        found = (self.transactions[pid] for pid in self.by_free1.get(merchant_free1, []))
        return [tx for tx in found if merchant_id is None or tx.merchant_id == merchant_id]

    def live_holds(self) -> dict[str, dict[str, int]]:
        """Per merchant: how many live transactions and how much they hold, by state."""
        holds: dict[str, dict[str, int]] = defaultdict(
            lambda: {"authorized": 0, "authorized_amount": 0, "captured": 0, "captured_amount": 0})
        for tx in self.transactions.values():
            if tx.state.live:
                entry = holds[tx.merchant_id]
                entry[tx.state.value] += 1
                entry[f"{tx.state.value}_amount"] += tx.amount
        return dict(holds)
