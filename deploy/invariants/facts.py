"""What the checker reads from a stack, as plain data: the rules in `rules.py` look only at these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class Order:
    """checkout's orders table."""

    order_id: str
    shop_id: str
    checkout_id: str | None
    status: str
    payment_status: str
    payment_number: str | None
    placed_at: datetime
    updated_at: datetime
    subscription_id: str | None = None
    cycle_no: int | None = None


@dataclass(frozen=True, kw_only=True)
class Payment:
    """payment's payments table (what the checker needs of it)."""

    order_id: str
    state: str
    payment_number: str
    updated_at: datetime
    unknown_operation: bool = False
    two_live_holds: bool = False
    by_member: bool = False
    resolution: str | None = None


@dataclass(frozen=True, kw_only=True)
class Charge:
    """A transaction in the emulator's ledger."""

    process_id: str
    merchant_id: str
    kind: str
    state: str
    merchant_free1: str
    reauth_of: str | None = None


@dataclass(frozen=True, kw_only=True)
class Mail:
    """A mail: a row of notification's mail log (`message_id`, `status`) or a message in the SMTP sink."""

    order_id: str
    kind: str
    message_id: str
    status: str = "sent"
    resend: bool = False


@dataclass(frozen=True, kw_only=True)
class Cycle:
    """subscription's cycles table."""

    subscription_id: str
    cycle_no: int
    order_id: str | None
    status: str
    requested_at: datetime


@dataclass(frozen=True, kw_only=True)
class SecretHit:
    """One place a secret was found: where (log file:line, topic:partition:offset) and what kind."""

    where: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    lag: int


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    topic: str
    reason: str | None


@dataclass(kw_only=True)
class Facts:
    """Everything read from one stack. `accepted` are the checkout ids the storefront saw accepted (the
    checkout service's submissions plus, from a load driver, ids it published straight to Kafka)."""

    now: datetime
    accepted: set[tuple[str, str]] = field(default_factory=set)
    orders: list[Order] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    mail_log: list[Mail] = field(default_factory=list)
    sink: list[Mail] = field(default_factory=list)
    cycles: list[Cycle] = field(default_factory=list)
    secrets: list[SecretHit] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)
    lags: list[PartitionLag] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    janitor: dict[str, float] = field(default_factory=dict)
    probe_settled: list[str] = field(default_factory=list)
    """Order ids of gateway calls counted as not sent because 1TokenSearch found the token unspent (one per call)."""
