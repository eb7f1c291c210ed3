"""Renewal orders against the emulator over real HTTP, PostgreSQL and Kafka (design §6.6, R19-R22): charged by
member with no re-authorization of a failed cycle, a card replaced afterwards counting from the next cycle, and
the shop's opt-in retries running the same order again on the service's (moved) clock: a soft decline is
retried and authorizes, a hard one is not retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from contracts.events import OrderPlaced, PaymentAuthorized, PaymentDeclined
from contracts.events.shops import RenewalRetry
from services.payment.settings import RetrySettings
from tests.integration.payment.conftest import payment_harness
from tests.integration.payment.support import MovableClock, PaymentHarness, order_placed, renewal_placed
from tests.metrics_reading import sample, scrape
from tests.unit.payment.handlers.builders import settings_changed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
DAY = 86_400


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def retrying(database_url, isolated_kafka, clock: MovableClock) -> AsyncIterator[PaymentHarness]:
    """The payment service on a clock the test moves, its retry worker looking every 0.1 s."""
    async with payment_harness(database_url, isolated_kafka, seed=5, clock=clock,
                               retries=RetrySettings(poll_interval_s=0.1, min_pause_s=0.05)) as h:
        yield h


async def subscribed(harness: PaymentHarness, member_id: str) -> str:
    """The member's first (subscription) order links a card and is authorized; returns the member's KaiinId."""
    before = {m["kaiin_id"] for m in await harness.members()}
    first = order_placed(member_id=member_id, token=await harness.token())
    await harness.publish(first.model_copy(update={"cart_type": "subscription"}))
    await harness.outcome(first.order_id)
    [kaiin_id] = [m["kaiin_id"] for m in await harness.members() if m["kaiin_id"] not in before]
    return str(kaiin_id)


async def final_outcome(harness: PaymentHarness, order: OrderPlaced, kind: type, *, count: int = 1) -> Any:
    """The `count`-th payment event of `kind` for the order (e.g. the authorization after a retried decline)."""
    async def found() -> Any:
        events = [e.event() for e in harness.events_of(order.order_id)]
        matching = [e for e in events if isinstance(e, kind)]
        return matching[count - 1] if len(matching) >= count else None

    return await eventually(found, message=f"{kind.__name__} #{count} of {order.order_id}")


async def history(harness: PaymentHarness, order: OrderPlaced) -> list[tuple[str, str]]:
    response = await harness.payment(order.order_id)
    assert response.status_code == 200, response.text
    return [(a["operation"], a["status"]) for a in response.json()["history"]]


async def test_a_skipped_renewal_reaches_no_gateway_and_announces_nothing(harness: PaymentHarness) -> None:
    await subscribed(harness, "m-1")
    skipped = renewal_placed(member_id="m-1", cycle_no=2).model_copy(
        update={"payment_skip_reason": "authorize_at_renewal_off"})
    await harness.consumed(await harness.publish(skipped), await harness.publish(skipped))
    following = renewal_placed(member_id="m-1", cycle_no=3)
    await harness.publish(following)
    await final_outcome(harness, following, PaymentAuthorized)  # staged after anything the skip could have staged
    view = (await harness.payment(skipped.order_id)).json()
    assert (view["state"], view["reason"], view["history"]) == ("skipped", "authorize_at_renewal_off", [])
    assert (harness.events_of(skipped.order_id), await harness.requests("1Auth")) == (
        [], {"requests": 2, "ok": 2, "errors": 0})
    health = (await harness.api.get("/health")).json()
    assert health["checks"]["retry_worker"] is True


async def test_a_card_declining_from_now_on_fails_the_renewal_once_and_a_new_card_pays_the_next_cycle(
        harness: PaymentHarness) -> None:
    kaiin_id = await subscribed(harness, "m-1")
    await harness.decline_member(kaiin_id, code="G12")
    failed = renewal_placed(member_id="m-1", cycle_no=2)
    delivered = await harness.publish(failed)
    declined = await final_outcome(harness, failed, PaymentDeclined)
    assert (declined.operation, declined.codes, declined.retry_at) == ("1Auth", ["G12"], None)

    again = [await harness.publish(failed, event_id=delivered.event_id), await harness.publish(failed)]
    changed = order_placed(member_id="m-1", token=await harness.token("5555555555554444"))
    await harness.publish(changed)  # the buyer pays another order with a new card: 4MemChg replaces the stored one
    await harness.outcome(changed.order_id)
    following = renewal_placed(member_id="m-1", cycle_no=3)
    await harness.publish(following)
    paid = await final_outcome(harness, following, PaymentAuthorized)
    await harness.consumed(*again)

    [charge] = await harness.ledger(MerchantFree1=following.payment_number)
    assert (paid.card_source, charge["kaiin_id"], charge["card"]) == ("member", kaiin_id, "5555********4444")
    assert await harness.ledger(MerchantFree1=failed.payment_number) == []
    assert await history(harness, failed) == [("1Auth", "declined")]  # one attempt, never re-authorized
    assert await harness.requests("1Auth") == {"requests": 4, "ok": 3, "errors": 1}
    assert len([e for e in harness.events_of(failed.order_id) if e.type == "payment.declined.v1"]) == 1


async def test_with_retries_on_a_soft_decline_is_retried_and_authorizes_and_a_hard_one_is_not(
        retrying: PaymentHarness, clock: MovableClock) -> None:
    harness = retrying
    await harness.consumed(await harness.publish(settings_changed(retry=RenewalRetry(max_tries=2, within_days=7))))
    soft_member, hard_member = await subscribed(harness, "m-soft"), await subscribed(harness, "m-hard")
    await harness.decline_member(soft_member, code="G30", times=1)
    await harness.decline_member(hard_member, code="G60")
    soft, hard = renewal_placed(member_id="m-soft", cycle_no=2), renewal_placed(member_id="m-hard", cycle_no=2)
    await harness.publish(soft)
    await harness.publish(hard)

    waiting = await final_outcome(harness, soft, PaymentDeclined)
    final = await final_outcome(harness, hard, PaymentDeclined)
    assert (waiting.codes, final.codes, final.retry_at) == (["G30"], ["G60"], None)
    assert waiting.retry_at is not None
    assert timedelta(hours=23) < waiting.retry_at - clock.now() <= timedelta(days=1)
    view = (await harness.payment(soft.order_id)).json()
    assert (view["state"], view["retry"]["retries"]) == ("retry_scheduled", 0)
    assert sample(await scrape(harness.api), "payment_renewal_retries", kind="waiting") == 1

    clock.advance(DAY)
    authorized = await final_outcome(harness, soft, PaymentAuthorized)
    assert sample(await scrape(harness.api), "payment_renewal_retries", kind="waiting") == 0
    [charge] = await harness.ledger(MerchantFree1=soft.payment_number)
    assert (authorized.card_source, charge["kaiin_id"], charge["state"]) == ("member", soft_member, "authorized")
    assert await history(harness, soft) == [("1Auth", "declined"), ("1Auth", "ok")]
    assert await history(harness, hard) == [("1Auth", "declined")]
    assert (await harness.payment(hard.order_id)).json()["state"] == "declined"
    assert await harness.requests("1Auth") == {"requests": 5, "ok": 3, "errors": 2}

