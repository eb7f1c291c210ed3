"""A live summary of `payments.events` (pure: no I/O): authorizations per second, declines by result-code kind,
outcomes still unknown. `tools.watch_payments` feeds it records and prints it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.events.payments import PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown
from contracts.registry import UnknownEventType

WATCHED = {PaymentAuthorized.TYPE, PaymentDeclined.TYPE, PaymentOutcomeUnknown.TYPE}


def code_kind(code: str) -> str:
    """`G12` -> `G`: the result code's series (G card company, C card or contract, K message check, E system)."""
    kind = code[:1].upper()
    return kind if kind.isalpha() else "other"


@dataclass(kw_only=True)
class PaymentSummary:
    """Counts since start, plus the authorizations of the last `window` (by the events' `occurred_at`)."""

    window: timedelta = timedelta(seconds=10)
    authorized: int = 0
    declined: int = 0
    declines_by_kind: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    unknown_open: set[str] = field(default_factory=set)
    other: int = 0
    unreadable: int = 0
    _recent: list[datetime] = field(default_factory=list)

    def add(self, value: bytes | None, type_header: str | None = None) -> None:
        """One record of the topic. Types this summary does not count are skipped by their `type` header
        without parsing; an unreadable record is counted, never raised."""
        if type_header is not None and type_header not in WATCHED:
            self.other += 1
            return
        try:
            envelope = Envelope.from_bytes(value or b"")
            event = envelope.event()
        except UnknownEventType:  # a newer producer's type: a tolerant reader skips it
            self.other += 1
            return
        except (ValidationError, ValueError):
            self.unreadable += 1
            return
        if isinstance(event, PaymentAuthorized):
            self.authorized += 1
            self._recent.append(envelope.occurred_at)
            self.unknown_open.discard(event.order_id)
        elif isinstance(event, PaymentDeclined):
            self.declined += 1
            self.declines_by_kind.update({code_kind(code) for code in event.codes} or {"none"})
            self.unknown_open.discard(event.order_id)
        elif isinstance(event, PaymentOutcomeUnknown):
            self.unknown += 1
            self.unknown_open.add(event.order_id)
        else:
            self.other += 1

    def authorizations_per_second(self, now: datetime) -> float:
        """Authorizations that occurred in the `window` before `now` (records of several partitions arrive out of
        order, so the older ones are dropped by time, not by position)."""
        start = now - self.window
        self._recent = [at for at in self._recent if at >= start]
        return sum(1 for at in self._recent if at <= now) / self.window.total_seconds()

    def render(self, now: datetime) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.declines_by_kind.items())) or "-"
        return (f"{now:%H:%M:%S} authorizations/s {self.authorizations_per_second(now):6.1f} | "
                f"authorized {self.authorized} | declined {self.declined} (by code kind: {kinds}) | "
                f"unknown {self.unknown} (still open {len(self.unknown_open)}) | "
                f"other events {self.other} | unreadable {self.unreadable}")
