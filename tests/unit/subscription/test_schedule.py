"""Cycle dates and generation times: month ends keep their anchor day, leap years count, JST decides the day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.subscription.domain import schedule
from services.subscription.domain.errors import InvalidCycle, InvalidNextDate
from services.subscription.domain.schedule import RenewalTiming, Terms, Unit


def dates(start: date, terms: Terms, count: int) -> list[date]:
    found, on = [], start
    for _ in range(count):
        on = schedule.following(on, terms, anchor_day=start.day)
        found.append(on)
    return found


def test_a_subscription_started_on_the_31st_renews_on_each_month_s_last_day_and_back_on_the_31st():
    assert dates(date(2025, 1, 31), Terms(1, Unit.MONTH), 6) == [
        date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31), date(2025, 6, 30),
        date(2025, 7, 31)]


def test_february_has_a_29th_in_a_leap_year():
    assert dates(date(2024, 1, 31), Terms(1, Unit.MONTH), 2) == [date(2024, 2, 29), date(2024, 3, 31)]


def test_a_subscription_started_on_february_29th_renews_on_the_28th_in_common_years_and_the_29th_in_leap_years():
    assert dates(date(2024, 2, 29), Terms(12, Unit.MONTH), 4) == [
        date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_every_two_months_from_the_30th_crosses_the_year_and_february():
    assert dates(date(2024, 12, 30), Terms(2, Unit.MONTH), 3) == [date(2025, 2, 28), date(2025, 4, 30),
                                                                  date(2025, 6, 30)]


def test_days_and_weeks_count_leap_days():
    assert schedule.following(date(2024, 2, 28), Terms(1, Unit.DAY), anchor_day=28) == date(2024, 2, 29)
    assert schedule.following(date(2024, 2, 26), Terms(1, Unit.WEEK), anchor_day=26) == date(2024, 3, 4)
    assert schedule.following(date(2025, 2, 26), Terms(1, Unit.WEEK), anchor_day=26) == date(2025, 3, 5)


@pytest.mark.parametrize(("every", "unit"), [(0, "month"), (-1, "day"), (13, "month"), (53, "week"), (366, "day"),
                                             (1, "year"), (1, "fortnight")])
def test_cycles_of_zero_negative_more_than_a_year_or_an_unknown_unit_are_invalid(every, unit):
    with pytest.raises(InvalidCycle):
        Terms.of(every, unit)


@pytest.mark.parametrize(("every", "unit"), [(1, "day"), (365, "day"), (52, "week"), (12, "month")])
def test_cycles_up_to_one_year_are_valid(every, unit):
    assert Terms.of(every, unit) == Terms(every, Unit(unit))


def test_the_order_is_generated_lead_days_before_delivery_at_the_shop_s_hour_in_jst():
    at = schedule.generation_time(date(2025, 3, 1), RenewalTiming(lead_days=3, hour_jst=9))
    assert at.astimezone(UTC) == datetime(2025, 2, 26, 0, 0, tzinfo=UTC)  # 09:00 JST on Feb 26


def test_generation_at_midnight_jst_is_the_previous_evening_in_utc():
    at = schedule.generation_time(date(2025, 3, 1), RenewalTiming())
    assert at.astimezone(UTC) == datetime(2025, 2, 28, 15, 0, tzinfo=UTC)


def test_the_jst_date_changes_at_15_00_utc():
    assert schedule.jst_date(datetime(2025, 2, 28, 14, 59, 59, tzinfo=UTC)) == date(2025, 2, 28)
    assert schedule.jst_date(datetime(2025, 2, 28, 15, 0, tzinfo=UTC)) == date(2025, 3, 1)


def test_the_first_cycle_date_on_or_after_a_day_follows_the_anchor():
    terms = Terms(1, Unit.MONTH)
    found = schedule.first_on_or_after(date(2025, 1, 31), terms, anchor_day=31, earliest=date(2025, 4, 1))
    assert found == date(2025, 4, 30)
    assert schedule.first_on_or_after(date(2025, 5, 31), terms, anchor_day=31, earliest=date(2025, 4, 1)) == date(
        2025, 5, 31)


@pytest.mark.parametrize(("on", "message"), [(date(2025, 3, 9), "in the past"),
                                             (date(2025, 3, 10), "not after the latest"),
                                             (date(2026, 3, 12), "more than a year")])
def test_a_next_date_by_hand_is_today_or_later_after_the_latest_cycle_and_within_a_year(on, message):
    with pytest.raises(InvalidNextDate, match=message):
        schedule.check_next_date(on, today=date(2025, 3, 10), after=date(2025, 3, 10))
