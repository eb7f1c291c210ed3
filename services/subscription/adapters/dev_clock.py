"""The dev clock: the system clock plus an offset that only moves forward (design §6.6: months of cycles in
seconds). Built only when `SUBSCRIPTION_DEV_CLOCK=true` (the local stack, tests); production uses
`delivery.clock.SystemClock` and has no way to move time."""

from __future__ import annotations

from datetime import datetime, timedelta

from delivery.clock import Clock, SystemClock


class DevClock:
    """`now()` = the base clock + an offset. `start` sets where it begins (then it runs at real speed)."""

    def __init__(self, base: Clock | None = None, *, start: datetime | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = (start - self._base.now()) if start is not None else timedelta()

    def now(self) -> datetime:
        return self._base.now() + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, by: timedelta) -> datetime:
        """Move forward by `by`; never backward (dates already generated must stay in the past)."""
        if by < timedelta():
            raise ValueError("the dev clock only moves forward")
        self._offset += by
        return self.now()
