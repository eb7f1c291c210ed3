"""Request bodies of the HTTP API: validated at the edge (422 `schema_invalid`), then turned into domain values."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.subscription.domain.contents import Line
from services.subscription.domain.subscription import CancelWhen

Reason = Annotated[str | None, Field(default=None, max_length=500, description="why (kept in the event)")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class ReasonBody(_Body):
    reason: Reason = None


class CancelBody(_Body):
    when: Literal["at_once", "after_current_cycle"] = Field(
        description="at_once: canceled now; after_current_cycle: the latest generated delivery still comes")
    reason: Reason = None

    @property
    def cancel_when(self) -> CancelWhen:
        return CancelWhen(self.when)


class ScheduleBody(_Body):
    """A new cycle (`every` + `unit`), a new next delivery date, or both. The cycle's limits (1..1 year) are the
    domain's: an out-of-range `every` is a 422 `invalid_cycle`, not a schema error."""

    every: int | None = None
    unit: Literal["day", "week", "month"] | None = None
    next_cycle_on: date | None = Field(default=None, description="JST date of the next delivery")

    @model_validator(mode="after")
    def _something(self) -> ScheduleBody:
        if (self.every is None) != (self.unit is None):
            raise ValueError("every and unit go together")
        if self.every is None and self.next_cycle_on is None:
            raise ValueError("give a new cycle (every, unit), a next_cycle_on, or both")
        return self


class LineBody(_Body):
    sku: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=500)
    unit_price: int = Field(ge=0, le=99_999_999)
    quantity: int = Field(ge=1, le=9_999)

    def line(self) -> Line:
        return Line(sku=self.sku, name=self.name, unit_price=self.unit_price, quantity=self.quantity)


class LinesBody(_Body):
    lines: list[LineBody] = Field(max_length=100)
