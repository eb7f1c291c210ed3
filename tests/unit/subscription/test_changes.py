"""What pausing, resuming, skipping, changing and cancelling do to the next delivery, as a buyer expects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.subscription.domain import subscription as s
from services.subscription.domain.contents import Line
from services.subscription.domain.errors import (
    InvalidFirstOrder,
    InvalidLines,
    InvalidNextDate,
    SubscriptionCanceled,
    SubscriptionEnding,
    SubscriptionPaused,
)
from services.subscription.domain.schedule import RenewalTiming, Terms, Unit
from services.subscription.domain.subscription import CancelWhen, Change, Status
from tests.unit.subscription.builders import first_order, subscription


def test_a_subscription_starts_as_cycle_one_with_the_next_delivery_one_period_after_the_first_order():
    sub = s.start(first_order(date(2025, 1, 31)))
    assert (sub.status, sub.cycle_count, sub.next_cycle_on, sub.anchor_day) == (Status.ACTIVE, 1, date(2025, 2, 28), 31)
    assert sub.next_due_on == date(2025, 2, 28)


def test_the_same_first_order_always_gets_the_same_subscription_id():
    assert s.start(first_order()).subscription_id == s.start(first_order()).subscription_id
    assert s.start(first_order(order_id="ord-2")).subscription_id != s.start(first_order()).subscription_id
    assert s.start(first_order(subscription_id="sub-given")).subscription_id == "sub-given"


def test_a_guest_cannot_start_a_subscription():
    with pytest.raises(InvalidFirstOrder, match="member"):
        s.start(first_order(member_id=None))


def test_pausing_hides_the_next_delivery_and_resuming_picks_the_first_cycle_date_from_today():
    paused = s.pause(subscription()).subscription  # next was Feb 28
    assert (paused.status, paused.next_due_on) == (Status.PAUSED, None)
    resumed = s.resume(paused, today=date(2025, 4, 15))
    assert resumed.change is Change.RESUMED
    assert resumed.subscription.next_due_on == date(2025, 4, 30)  # the anchor (31st) is kept: April's last day


def test_resuming_on_a_cycle_date_delivers_that_day():
    resumed = s.resume(s.pause(subscription()).subscription, today=date(2025, 3, 31)).subscription
    assert resumed.next_due_on == date(2025, 3, 31)


def test_resuming_before_the_planned_date_keeps_it():
    resumed = s.resume(s.pause(subscription()).subscription, today=date(2025, 2, 10)).subscription
    assert resumed.next_due_on == date(2025, 2, 28)


def test_pausing_a_paused_and_resuming_an_active_subscription_change_nothing():
    paused = s.pause(subscription()).subscription
    assert s.pause(paused).change is None
    assert s.resume(subscription(), today=date(2025, 2, 1)).change is None


def test_skipping_the_next_cycle_moves_the_next_delivery_one_period_on():
    skipped = s.skip_next(subscription())
    assert skipped.change is Change.CYCLE_SKIPPED
    assert skipped.subscription.next_due_on == date(2025, 3, 31)
    assert s.skip_next(skipped.subscription).subscription.next_due_on == date(2025, 4, 30)


def test_a_paused_subscription_has_no_next_cycle_to_skip():
    with pytest.raises(SubscriptionPaused):
        s.skip_next(s.pause(subscription()).subscription)


def test_a_new_cycle_applies_after_the_planned_next_delivery():
    changed = s.change_schedule(subscription(), terms=Terms(2, Unit.WEEK), today=date(2025, 2, 1)).subscription
    assert changed.next_due_on == date(2025, 2, 28)
    assert s.advance(changed).next_cycle_on == date(2025, 3, 14)


def test_a_new_next_date_moves_the_anchor_of_a_monthly_subscription():
    changed = s.change_schedule(subscription(), next_on=date(2025, 2, 15), today=date(2025, 2, 1)).subscription
    assert (changed.next_due_on, changed.anchor_day) == (date(2025, 2, 15), 15)
    assert s.advance(changed).next_cycle_on == date(2025, 3, 15)


def test_moving_the_next_date_to_a_short_month_s_end_keeps_the_31st():
    sub = subscription(next_cycle_on=date(2025, 3, 31))
    changed = s.change_schedule(sub, next_on=date(2025, 4, 30), today=date(2025, 3, 1)).subscription
    assert changed.anchor_day == 31 and s.advance(changed).next_cycle_on == date(2025, 5, 31)


def test_a_next_date_on_or_before_the_latest_generated_cycle_is_refused():
    sub = s.advance(subscription())  # cycle 2 generated for Feb 28
    with pytest.raises(InvalidNextDate):
        s.change_schedule(sub, next_on=date(2025, 2, 28), today=date(2025, 2, 25))


def test_new_lines_replace_the_lines_of_the_next_cycles():
    lines = [Line(sku="TEA-9", name="玉露", unit_price=3000, quantity=1)]
    changed = s.change_lines(subscription(), lines)
    assert changed.change is Change.LINES_CHANGED and changed.subscription.contents.lines == tuple(lines)


@pytest.mark.parametrize("lines", [[], [Line(sku="FREE", name="おまけ", unit_price=0, quantity=1)]])
def test_no_lines_or_a_zero_yen_total_are_refused(lines):
    with pytest.raises(InvalidLines):
        s.change_lines(subscription(), lines)


def test_cancelling_at_once_ends_the_subscription_now():
    canceled = s.cancel(subscription(), when=CancelWhen.AT_ONCE, today=date(2025, 2, 10)).subscription
    assert (canceled.status, canceled.next_due_on, canceled.ends_on) == (Status.CANCELED, None, None)


def test_cancelling_after_the_current_cycle_keeps_the_generated_delivery_and_no_more():
    sub = s.advance(subscription())  # cycle 2 (Feb 28) generated; next would be Mar 31
    ending = s.cancel(sub, when=CancelWhen.AFTER_CURRENT_CYCLE, today=date(2025, 2, 26)).subscription
    assert (ending.status, ending.ends_on, ending.next_due_on) == (Status.ACTIVE, date(2025, 2, 28), None)
    assert s.due_at(ending, RenewalTiming()) == datetime(2025, 2, 28, 15, 0, tzinfo=UTC)  # midnight JST after it


def test_cancelling_after_the_current_cycle_with_none_pending_ends_today():
    ending = s.cancel(subscription(), when=CancelWhen.AFTER_CURRENT_CYCLE, today=date(2025, 2, 10)).subscription
    assert ending.ends_on == date(2025, 2, 10)


@pytest.mark.parametrize("change", [s.pause, s.skip_next, lambda sub: s.resume(sub, today=date(2025, 3, 1))])
def test_a_canceled_subscription_refuses_every_change(change):
    canceled = s.cancel(subscription(), when=CancelWhen.AT_ONCE, today=date(2025, 2, 10)).subscription
    with pytest.raises(SubscriptionCanceled) as refused:
        change(canceled)
    assert refused.value.subscription.status is Status.CANCELED
    with pytest.raises(SubscriptionCanceled):
        s.cancel(canceled, when=CancelWhen.AT_ONCE, today=date(2025, 2, 10))


def test_an_ending_subscription_can_still_be_canceled_at_once_but_not_paused():
    ending = s.cancel(subscription(), when=CancelWhen.AFTER_CURRENT_CYCLE, today=date(2025, 2, 10)).subscription
    with pytest.raises(SubscriptionEnding):
        s.pause(ending)
    assert s.cancel(ending, when=CancelWhen.AT_ONCE, today=date(2025, 2, 10)).subscription.status is Status.CANCELED


def test_every_change_bumps_the_version():
    sub = subscription()
    assert s.pause(sub).subscription.version == sub.version + 1
    assert s.advance(sub).version == sub.version + 1
