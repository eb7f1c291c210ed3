"""Due cycles and the outcomes of their orders: one renewal per due cycle, at the shop's hour in JST; one order per
cycle; a final outcome never changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.subscription.domain import cycles as c
from services.subscription.domain import subscription as s
from services.subscription.domain.cycles import CycleStatus, OrderReport, Renewal
from services.subscription.domain.errors import CycleOrderConflict
from services.subscription.domain.schedule import RenewalTiming
from services.subscription.domain.subscription import CancelWhen, Changed, Status
from tests.unit.subscription.builders import subscription

NINE_AM = RenewalTiming(lead_days=2, hour_jst=9)
FEB_26_9AM_JST = datetime(2025, 2, 26, 0, 0, tzinfo=UTC)  # delivery Feb 28 - 2 days, 09:00 JST


def test_a_cycle_is_not_due_a_second_before_the_shop_s_generation_time():
    assert c.run_due(subscription(), now=FEB_26_9AM_JST - timedelta(seconds=1), timing=NINE_AM) is None


def test_at_the_generation_time_the_next_cycle_is_generated_and_the_schedule_moves_on():
    step = c.run_due(subscription(), now=FEB_26_9AM_JST, timing=NINE_AM)
    assert isinstance(step, Renewal)
    assert (step.cycle.cycle_no, step.cycle.scheduled_for, step.cycle.status) == (2, date(2025, 2, 28),
                                                                                   CycleStatus.REQUESTED)
    assert (step.subscription.cycle_count, step.subscription.last_cycle_on, step.subscription.next_cycle_on) == (
        2, date(2025, 2, 28), date(2025, 3, 31))


def test_at_midnight_jst_a_same_day_generation_is_due():
    midnight = datetime(2025, 2, 27, 15, 0, tzinfo=UTC)  # Feb 28 00:00 JST
    assert c.run_due(subscription(), now=midnight - timedelta(microseconds=1), timing=RenewalTiming()) is None
    assert isinstance(c.run_due(subscription(), now=midnight, timing=RenewalTiming()), Renewal)


def test_paused_and_canceled_subscriptions_are_never_due():
    late = datetime(2026, 1, 1, tzinfo=UTC)
    assert c.run_due(s.pause(subscription()).subscription, now=late, timing=NINE_AM) is None
    canceled = s.cancel(subscription(), when=CancelWhen.AT_ONCE, today=date(2025, 2, 1)).subscription
    assert c.run_due(canceled, now=late, timing=NINE_AM) is None


def test_an_ending_subscription_ends_after_its_last_day_without_another_cycle():
    ending = s.cancel(subscription(), when=CancelWhen.AFTER_CURRENT_CYCLE, today=date(2025, 2, 10)).subscription
    assert c.run_due(ending, now=datetime(2025, 2, 10, 14, 59, tzinfo=UTC), timing=NINE_AM) is None
    step = c.run_due(ending, now=datetime(2025, 2, 10, 15, 0, tzinfo=UTC), timing=NINE_AM)
    assert isinstance(step, Changed) and step.change is s.Change.ENDED
    assert step.subscription.status is Status.CANCELED


def test_a_skipped_cycle_is_not_generated_the_next_one_is():
    skipped = s.skip_next(subscription()).subscription
    assert c.run_due(skipped, now=FEB_26_9AM_JST, timing=NINE_AM) is None
    step = c.run_due(skipped, now=datetime(2025, 3, 29, 0, 0, tzinfo=UTC), timing=NINE_AM)
    assert isinstance(step, Renewal) and (step.cycle.cycle_no, step.cycle.scheduled_for) == (2, date(2025, 3, 31))


def requested() -> c.Cycle:
    return c.Cycle(subscription_id="sub-1", cycle_no=2, scheduled_for=date(2025, 2, 28), requested_at=FEB_26_9AM_JST)


def report(outcome: CycleStatus, order_id: str = "ord-2", reason_code: str | None = None) -> OrderReport:
    return OrderReport(subscription_id="sub-1", shop_id="demo-shop", cycle_no=2, order_id=order_id, outcome=outcome,
                       reason_code=reason_code)


def test_a_placed_order_is_recorded_on_its_cycle_without_settling_it():
    decision = c.record_order(requested(), report(CycleStatus.PLACED), at=FEB_26_9AM_JST)
    assert (decision.cycle.order_id, decision.cycle.status, decision.settled) == ("ord-2", CycleStatus.PLACED, False)


@pytest.mark.parametrize("outcome", [CycleStatus.COMPLETED, CycleStatus.SKIPPED, CycleStatus.PAYMENT_FAILED,
                                     CycleStatus.NEEDS_REVIEW])
def test_an_outcome_settles_the_cycle_once(outcome):
    settled = c.record_order(requested(), report(outcome, reason_code="card_declined"), at=FEB_26_9AM_JST)
    assert settled.settled and settled.cycle.status is outcome and settled.cycle.settled_at == FEB_26_9AM_JST
    again = c.record_order(settled.cycle, report(outcome), at=FEB_26_9AM_JST)
    assert (again.changed, again.settled) == (False, False)


def test_a_late_placed_event_does_not_undo_an_outcome():
    failed = c.record_order(requested(), report(CycleStatus.PAYMENT_FAILED), at=FEB_26_9AM_JST).cycle
    assert c.record_order(failed, report(CycleStatus.PLACED), at=FEB_26_9AM_JST).changed is False


def test_a_resolved_review_settles_again_and_a_final_outcome_never_changes():
    review = c.record_order(requested(), report(CycleStatus.NEEDS_REVIEW), at=FEB_26_9AM_JST).cycle
    completed = c.record_order(review, report(CycleStatus.COMPLETED), at=FEB_26_9AM_JST)
    assert completed.settled and completed.cycle.status is CycleStatus.COMPLETED
    assert c.record_order(completed.cycle, report(CycleStatus.PAYMENT_FAILED), at=FEB_26_9AM_JST).changed is False


def test_a_second_order_for_one_cycle_is_refused():
    placed = c.record_order(requested(), report(CycleStatus.PLACED), at=FEB_26_9AM_JST).cycle
    with pytest.raises(CycleOrderConflict):
        c.record_order(placed, report(CycleStatus.COMPLETED, order_id="ord-other"), at=FEB_26_9AM_JST)
