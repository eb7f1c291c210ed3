"""R22 and its opt-in: which renewal declines are retried, when, how often, and the states a retry moves through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.payment.domain import events as ev
from services.payment.domain.cards import CardPlan, CardSource
from services.payment.domain.gateway import SalesMode
from services.payment.domain.model import InvalidTransition, Payment, PaymentState
from services.payment.domain.retries import (
    RetryPolicy,
    ScheduledRetry,
    begin_retry,
    is_soft,
    next_retry,
    retry_later,
    started,
)

T0 = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = RetryPolicy(max_tries=2, within_days=7)


def declined(*codes: str, reason: str | None = None, renewal: bool = True) -> Payment:
    return Payment(order_id="ord-1", shop_id="shop-1", payment_number="2" * 20, amount=3980, pay_type="01",
                   sales_mode=SalesMode.AUTH, buyer_name="山田 太郎", member_id="m-1", renewal=renewal,
                   plan=CardPlan(source=CardSource.MEMBER), kaiin_id="K1", state=PaymentState.DECLINED,
                   codes=codes, reason=reason, buyer_message="クレジットカード会社にお問い合わせください")


def schedule(retries: int, *, first: datetime = T0) -> ScheduledRetry:
    return ScheduledRetry(order_id="ord-1", shop_id="shop-1", first_tried_at=first, retries=retries, due_at=T0)


@pytest.mark.parametrize("codes", [("G12",), ("G30",), ("G54",), ("G55",), ("G97",), ("G99",), ("C02",),
                                   ("K96",), ("G12", "G55")])
def test_try_later_declines_are_soft(codes) -> None:
    assert is_soft(codes, None)


@pytest.mark.parametrize("codes", [("G60",), ("G56",), ("G61",), ("G65",), ("G83",), ("G44",), ("G42",), ("G98",),
                                   ("K01",), ("K23",), ("K40",), ("K71",), ("K79",), ("K99",), ("C13",),
                                   ("G12", "G60"), ("ZZ9",)])
def test_never_declines_and_our_own_input_are_hard(codes) -> None:
    assert not is_soft(codes, None)


def test_a_charge_that_never_left_is_soft_and_a_refusal_without_codes_is_not() -> None:
    assert is_soft((), "gateway_unreachable")
    assert not is_soft((), "no_registered_card")
    assert not is_soft((), "gateway_credentials_missing")


def test_without_the_shops_opt_in_every_decline_is_final() -> None:
    assert next_retry(declined("G12"), policy=None, current=None, first_tried_at=T0, now=T0) is None


def test_a_soft_decline_is_retried_after_a_day_then_after_two_days() -> None:
    first = next_retry(declined("G12"), policy=POLICY, current=None, first_tried_at=T0, now=T0)
    assert first == ScheduledRetry(order_id="ord-1", shop_id="shop-1", first_tried_at=T0, retries=0,
                                   due_at=T0 + DAY)
    then = T0 + DAY
    second = next_retry(declined("G30"), policy=POLICY, current=started(first), first_tried_at=then, now=then)
    assert second is not None
    assert (second.retries, second.due_at, second.first_tried_at) == (1, then + 2 * DAY, T0)


def test_a_hard_decline_is_final_even_during_retries() -> None:
    assert next_retry(declined("G60"), policy=POLICY, current=None, first_tried_at=T0, now=T0) is None
    assert next_retry(declined("G83"), policy=POLICY, current=schedule(1), first_tried_at=T0, now=T0 + DAY) is None


def test_no_more_than_max_tries_retries() -> None:
    assert next_retry(declined("G12"), policy=POLICY, current=schedule(2), first_tried_at=T0, now=T0 + DAY) is None


def test_the_backoff_is_cut_to_the_window_and_nothing_is_due_after_it() -> None:
    short = RetryPolicy(max_tries=5, within_days=2)
    now = T0 + DAY + timedelta(hours=12)
    cut = next_retry(declined("G55"), policy=short, current=schedule(1), first_tried_at=T0, now=now)
    assert cut is not None and cut.due_at == T0 + 2 * DAY
    late = T0 + 2 * DAY
    assert next_retry(declined("G55"), policy=short, current=schedule(2), first_tried_at=T0, now=late) is None


def test_only_a_declined_renewal_is_retried() -> None:
    assert next_retry(declined("G12", renewal=False), policy=POLICY, current=None, first_tried_at=T0,
                      now=T0) is None
    unknown = replace(declined(), state=PaymentState.UNKNOWN, reason="timeout")
    assert next_retry(unknown, policy=POLICY, current=None, first_tried_at=T0, now=T0) is None


def test_a_scheduled_retry_announces_when_and_the_payment_waits_for_it() -> None:
    payment = declined("G12")
    event = ev.PaymentDeclined(order_id="ord-1", shop_id="shop-1", payment_number=payment.payment_number,
                               amount=3980, operation="1Auth", codes=("G12",), buyer_message="x")
    waiting, [announced] = retry_later((payment, [event]), due_at=T0 + DAY)
    assert (waiting.state, announced) == (PaymentState.RETRY_SCHEDULED, replace(event, retry_at=T0 + DAY))


def test_a_due_retry_makes_the_payment_pending_again_and_only_a_waiting_one() -> None:
    waiting = replace(declined("G12"), state=PaymentState.RETRY_SCHEDULED)
    pending = begin_retry(waiting)
    assert (pending.state, pending.codes, pending.reason, pending.buyer_message) == (PaymentState.PENDING, (), None,
                                                                                     None)
    with pytest.raises(InvalidTransition):
        begin_retry(declined("G12"))
    with pytest.raises(InvalidTransition):
        retry_later((pending, []), due_at=T0)
