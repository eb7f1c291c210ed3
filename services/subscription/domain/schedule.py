"""Calendar arithmetic of subscriptions (design §6.6): cycle dates and order-generation times, in JST.

Business dates are JST calendar dates (design §4); instants are aware datetimes. A monthly subscription keeps
its anchor day: started on the 31st, it renews on each month's last day and is back on the 31st whenever the
month has one (Jan 31 -> Feb 28/29 -> Mar 31 -> Apr 30). Renewal orders are generated (受注生成) `lead_days`
before the delivery date, at `hour_jst` o'clock JST, as the shop set them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

from services.subscription.domain.errors import InvalidCycle, InvalidNextDate

JST = timezone(timedelta(hours=9), name="JST")
"""Japan has no daylight saving time: a fixed offset is exact."""


class Unit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


MAX_EVERY: dict[Unit, int] = {Unit.DAY: 365, Unit.WEEK: 52, Unit.MONTH: 12}
"""The longest cycle of each unit: one year in total at most."""


@dataclass(frozen=True)
class Terms:
    """Every `every` `unit`s. Built only valid: `InvalidCycle` for 0, negatives and more than a year."""

    every: int
    unit: Unit

    def __post_init__(self) -> None:
        if not isinstance(self.unit, Unit):
            raise InvalidCycle(f"unknown cycle unit {self.unit!r}: day, week or month")
        longest = MAX_EVERY[self.unit]
        if isinstance(self.every, bool) or not isinstance(self.every, int) or not 1 <= self.every <= longest:
            raise InvalidCycle(f"every {self.every} {self.unit.value}(s): must be 1 to {longest} (one year at most)")

    @classmethod
    def of(cls, every: int, unit: str) -> Terms:
        """Terms from wire values; an unknown unit is an `InvalidCycle` like a bad count."""
        try:
            return cls(every, Unit(unit))
        except ValueError:
            raise InvalidCycle(f"unknown cycle unit {unit!r}: day, week or month") from None


@dataclass(frozen=True)
class RenewalTiming:
    """When a shop's renewal orders are generated: `lead_days` before delivery, at `hour_jst` (R20, 受注生成)."""

    lead_days: int = 0
    hour_jst: int = 0


def following(on: date, terms: Terms, *, anchor_day: int) -> date:
    """The cycle date after `on`: `terms` later, a monthly one on its anchor day or the month's last day."""
    if terms.unit is Unit.DAY:
        return on + timedelta(days=terms.every)
    if terms.unit is Unit.WEEK:
        return on + timedelta(weeks=terms.every)
    years, month_index = divmod(on.month - 1 + terms.every, 12)
    year, month = on.year + years, month_index + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def first_on_or_after(start: date, terms: Terms, *, anchor_day: int, earliest: date) -> date:
    """The first date of the cycle sequence through `start` that is not before `earliest` (`start` if it is not)."""
    on = start
    while on < earliest:
        on = following(on, terms, anchor_day=anchor_day)
    return on


def anchor_for(terms: Terms, on: date, *, current: int) -> int:
    """The anchor day after a schedule change: a monthly cycle keeps its anchor unless the date moved off it."""
    if terms.unit is Unit.MONTH and (on.day == current or _is_clamped(on, current)):
        return current
    return on.day


def _is_clamped(on: date, anchor_day: int) -> bool:
    """`on` is the month's last day because the anchor day does not exist in that month (the 31st in April)."""
    last = calendar.monthrange(on.year, on.month)[1]
    return on.day == last < anchor_day


def check_next_date(on: date, *, today: date, after: date) -> None:
    """A next delivery date set by hand: not in the past, after the last generated cycle, within a year."""
    if on < today:
        raise InvalidNextDate(f"next date {on} is in the past (today is {today}, JST)")
    if on <= after:
        raise InvalidNextDate(f"next date {on} is not after the latest generated cycle ({after})")
    if on > today + timedelta(days=366):
        raise InvalidNextDate(f"next date {on} is more than a year ahead")


def generation_time(delivery_on: date, timing: RenewalTiming) -> datetime:
    """The instant a cycle's order is generated: `lead_days` before delivery, at `hour_jst` o'clock JST."""
    day = delivery_on - timedelta(days=timing.lead_days)
    return datetime.combine(day, time(hour=timing.hour_jst), tzinfo=JST)


def end_of_day(on: date) -> datetime:
    """The first instant after the JST day `on` (midnight JST at its end)."""
    return datetime.combine(on + timedelta(days=1), time(), tzinfo=JST)


def jst_date(moment: datetime) -> date:
    """The JST calendar date of an aware instant."""
    return moment.astimezone(JST).date()
