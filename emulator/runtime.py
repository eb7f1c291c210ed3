"""Mutable run-time state of one emulator process: the engine, the fault plan, in-flight accounting
and the requests being held without an answer.

Shared by the gateway routes and the admin routes; no HTTP framework types here.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from emulator.engine import Engine
from emulator.faults import FaultPlan

DEFAULT_MAX_HOLD_SECONDS = 300.0


@dataclass(kw_only=True)
class Runtime:
    """Everything a running emulator keeps besides the ledger itself."""

    engine: Engine
    faults: FaultPlan = field(default_factory=FaultPlan)
    max_hold_seconds: float = DEFAULT_MAX_HOLD_SECONDS
    in_flight: int = 0
    max_in_flight: int = 0
    faults_applied: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    _held: set[asyncio.Future[None]] = field(default_factory=set)

    def enter(self) -> None:
        """Count a request as in flight and keep the high-water mark."""
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight

    def leave(self) -> None:
        """A request has been answered, aborted or abandoned."""
        self.in_flight -= 1

    def record_fault(self, operate_id: str, action: str) -> None:
        """Count an injected fault, so tests can assert the fault really fired."""
        per_op = self.faults_applied[operate_id or "(invalid)"]
        per_op[action] = per_op.get(action, 0) + 1

    async def hold(self) -> None:
        """Wait without answering until released, the client goes away (task cancelled) or the bound."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held.add(future)
        try:
            async with asyncio.timeout(self.max_hold_seconds):
                await future
        except TimeoutError:
            pass
        finally:
            self._held.discard(future)

    def release_held(self) -> int:
        """End every hold now (shutdown, or a test that wants its connections back)."""
        held = list(self._held)
        for future in held:
            if not future.done():
                future.set_result(None)
        return len(held)

    @property
    def held(self) -> int:
        """How many requests are being held right now."""
        return len(self._held)

    def reset(self) -> None:
        """Back to a fresh emulator: empty ledger, no faults, zeroed counters, real time."""
        self.engine.reset()
        self.engine.clock.offset = type(self.engine.clock.offset)()
        self.faults = FaultPlan()
        self.max_in_flight = self.in_flight
        self.faults_applied.clear()
