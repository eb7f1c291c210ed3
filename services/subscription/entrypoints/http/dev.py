"""The dev clock endpoint: exists only when `SUBSCRIPTION_DEV_CLOCK=true` (the local stack, tests), never in
production settings (design §6.6: run months of cycles in seconds).

    GET  /dev/clock                                   {"now", "offset_s"}
    POST /dev/clock {"advance_days"?, "advance_hours"?}   moves the clock forward and wakes the scheduler

The scheduler then generates every cycle that became due, as it would have at those times.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.subscription.ports import Clock, MovableClock, Wakeup


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    advance_days: int = Field(default=0, ge=0, le=3660)
    advance_hours: int = Field(default=0, ge=0, le=24 * 3660)


def router(clock: MovableClock, wakeup: Wakeup) -> APIRouter:
    api = APIRouter(prefix="/dev", tags=["dev"])

    @api.get("/clock", summary="The service's clock (dev only)")
    async def read() -> dict[str, Any]:
        return _view(clock)

    @api.post("/clock", summary="Move the service's clock forward and run what became due (dev only)")
    async def advance(body: Advance) -> dict[str, Any]:
        clock.advance(timedelta(days=body.advance_days, hours=body.advance_hours))
        wakeup.wake()
        return _view(clock)

    return api


def _view(clock: Clock) -> dict[str, Any]:
    now = clock.now()
    return {"now": now.isoformat(), "offset_s": getattr(clock, "offset", timedelta()).total_seconds()}
