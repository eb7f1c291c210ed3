"""Failed-login throttling: after `limit` failures for one key (client address + shop id) within `window_s`, more
attempts are refused until the window passes, so an operator key cannot be guessed at speed from one place."""

from __future__ import annotations

import time
from collections import deque


class FailureThrottle:
    def __init__(self, *, limit: int = 5, window_s: float = 900.0, max_keys: int = 10_000):
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        return key in self._failures and len(self._recent(key)) >= self.limit

    def failed(self, key: str) -> None:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._failures.pop(next(iter(self._failures)))  # the oldest key goes: memory stays bounded
        self._recent(key).append(time.monotonic())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and time.monotonic() - times[0] > self.window_s:
            times.popleft()
        return times
