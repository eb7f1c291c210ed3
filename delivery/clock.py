"""The one real clock. Domains never read time: handlers get `now()` from a `Clock` port (tests pass a fixed or
stepping clock; the subscription scheduler's clock is moved by tests and the local demo)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """UTC wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)
