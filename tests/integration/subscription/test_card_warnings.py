"""The warning before a renewal would charge an expired card (R18, R22), on real PostgreSQL and Kafka: payment's
card events (among its other events) keep each member's card expiry; a renewal whose card will have expired is
announced once per cycle with `RenewalCardExpiring`, and a replaced card with a later expiry stops it."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.envelope import Envelope
from contracts.events import RenewalCardExpiring
from services.subscription.domain.subscription import subscription_id_for
from tests.integration.subscription.support import (
    advance,
    count,
    cycles_recorded,
    lifecycle,
    operator,
    publish,
    publish_envelopes,
    running,
    start,
    storefront,
    subscriptions_started,
)
from tests.unit.contracts import samples
from tests.unit.subscription import events
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SUB = subscription_id_for("demo-shop", "ord-0001")


async def card_is(database_url: str, expiry: str) -> bool:
    return await count(database_url, "SELECT count(*) FROM member_cards WHERE card_expiry = $1", expiry) == 1


def warnings(found: list) -> list[tuple[int, date, str]]:
    return [(e.cycle_no, e.next_cycle_on, e.card_expiry) for e in found if isinstance(e, RenewalCardExpiring)]


async def test_a_card_expiring_before_a_renewal_is_warned_once_and_a_later_card_stops_the_warnings(
        database_url, isolated_kafka):
    async with running(start(database_url, isolated_kafka)) as client:
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        await publish(isolated_kafka, [samples.payment_authorized(), events.card_linked("2025-03")])
        await eventually(lambda: card_is(database_url, "2025-03"), message="the card's expiry recorded")
        await advance(client, days=31)  # cycle 2 (Feb 28): the following one (Mar 31) can charge a March card
        await cycles_recorded(database_url, 2)
        await advance(client, days=31)  # cycle 3 (Mar 31): the following one (Apr 30) cannot
        await cycles_recorded(database_url, 3)
        await publish(isolated_kafka, [events.card_replaced("2030-12")])
        await eventually(lambda: card_is(database_url, "2030-12"), message="the replacement recorded")
        await advance(client, days=31)  # cycle 4 (Apr 30): the following one (May 31) charges the new card
        await cycles_recorded(database_url, 4)
        found = await lifecycle(isolated_kafka, at_least=2, settle=1.5)
    assert warnings(found) == [(4, date(2025, 4, 30), "2025-03")]
    [warning] = [e for e in found if isinstance(e, RenewalCardExpiring)]
    assert (warning.subscription_id, warning.member_id, warning.shop_id) == (SUB, "m-1001", "demo-shop")


async def test_a_card_event_showing_an_expired_card_warns_for_the_next_cycle_once_however_often_it_comes(
        database_url, isolated_kafka):
    linked = Envelope.wrap(events.card_linked("2025-01"), producer="payment", correlation_id="chk-ord-0001")
    async with running(start(database_url, isolated_kafka)) as client:
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        await publish_envelopes(isolated_kafka, [linked, linked])  # delivered twice
        await publish(isolated_kafka, [events.card_linked("2025-01")])  # and emitted again
        await eventually(lambda: _warned(database_url), message="the warning recorded")
        found = await lifecycle(isolated_kafka, at_least=2, settle=1.5)
        view = (await client.get(f"/v1/shops/demo-shop/subscriptions/{SUB}", headers=operator())).json()
        mine = (await client.get("/v1/shops/demo-shop/members/m-1001/subscriptions", headers=storefront())).json()
    assert warnings(found) == [(2, date(2025, 2, 28), "2025-01")]
    assert view["card_expires_before_next_renewal"] is True
    assert [s["card_expires_before_next_renewal"] for s in mine["subscriptions"]] == [True]


async def _warned(database_url: str) -> bool:
    return await count(database_url, "SELECT count(*) FROM card_warnings") >= 1
