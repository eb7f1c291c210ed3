"""The operator and storefront APIs on a running service: keys open only their own shop, every change is an event
on `subscriptions.events`, and bad requests get a problem+json answer with a stable `reason_code`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from contracts.events import SubscriptionChanged
from services.subscription.app import create_app
from services.subscription.domain.subscription import subscription_id_for
from tests.integration.subscription.support import (
    advance,
    lifecycle,
    operator,
    publish,
    running,
    settings,
    start,
    storefront,
    subscriptions_started,
)
from tests.unit.subscription import events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SUB = subscription_id_for("demo-shop", "ord-0001")
OTHER_SHOPS = subscription_id_for("other-shop", "ord-other")
BASE = f"/v1/shops/demo-shop/subscriptions/{SUB}"
MINE = f"/v1/shops/demo-shop/members/m-1001/subscriptions/{SUB}"


@pytest.fixture
async def client(database_url, isolated_kafka) -> AsyncIterator[httpx.AsyncClient]:
    """A running service with a demo-shop subscription of member m-1001 and one of another shop."""
    async with running(start(database_url, isolated_kafka)) as client:
        await publish(isolated_kafka, [events.first_order(),
                      events.first_order("ord-other", shop_id="other-shop", member_id="m-9")])
        await subscriptions_started(database_url, 2)
        yield client


def problem(response: httpx.Response, status: int, reason_code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["reason_code"]) == (status, reason_code), body
    return dict(body)


async def test_the_operator_api_needs_the_shop_s_own_operator_key(client):
    problem(await client.get("/v1/shops/demo-shop/subscriptions"), 401, "unauthorized")
    problem(await client.get("/v1/shops/demo-shop/subscriptions", headers=operator("other-shop")), 404, "not_found")
    problem(await client.get("/v1/shops/demo-shop/subscriptions", headers=storefront()), 401, "unauthorized")
    listed = (await client.get("/v1/shops/demo-shop/subscriptions", headers=operator())).json()
    assert [s["subscription_id"] for s in listed["subscriptions"]] == [SUB]


async def test_an_unknown_subscription_and_another_shop_s_are_not_found(client):
    problem(await client.get("/v1/shops/demo-shop/subscriptions/sub-none", headers=operator()), 404,
            "subscription_not_found")
    problem(await client.post(f"/v1/shops/demo-shop/subscriptions/{OTHER_SHOPS}/pause", headers=operator()), 404,
            "subscription_not_found")


@pytest.mark.parametrize("cycle", [{"every": 0, "unit": "month"}, {"every": -1, "unit": "day"},
                                   {"every": 13, "unit": "month"}, {"every": 53, "unit": "week"},
                                   {"every": 366, "unit": "day"}])
async def test_cycles_of_zero_negative_or_more_than_a_year_are_refused(client, cycle):
    body = problem(await client.patch(f"{BASE}/schedule", json=cycle, headers=operator()), 422, "invalid_cycle")
    assert "one year at most" in body["detail"]


@pytest.mark.parametrize(("body", "reason_code"), [
    ({"every": 1, "unit": "year"}, "schema_invalid"), ({"every": 1}, "schema_invalid"), ({}, "schema_invalid"),
    ({"next_cycle_on": "2024-12-31"}, "invalid_next_date"), ({"next_cycle_on": "31/12/2025"}, "schema_invalid")])
async def test_malformed_schedules_and_past_dates_are_refused(client, body, reason_code):
    problem(await client.patch(f"{BASE}/schedule", json=body, headers=operator()), 422, reason_code)


@pytest.mark.parametrize("lines", [[], [{"sku": "A", "name": "無料", "unit_price": 0, "quantity": 1}]])
async def test_no_lines_or_a_zero_yen_total_are_refused(client, lines):
    problem(await client.put(f"{BASE}/lines", json={"lines": lines}, headers=operator()), 422, "invalid_lines")


async def test_changes_to_a_canceled_subscription_answer_409_with_its_state(client):
    canceled = await client.post(f"{BASE}/cancel", json={"when": "at_once"}, headers=operator())
    assert canceled.json()["status"] == "canceled"
    for path, body in (("pause", None), ("resume", None), ("skip-next", None), ("cancel", {"when": "at_once"})):
        refused = problem(await client.post(f"{BASE}/{path}", json=body, headers=operator()), 409,
                          "subscription_canceled")
        assert refused["state"] == {"subscription_id": SUB, "status": "canceled", "next_cycle_on": None,
                                    "ends_on": None}


async def test_every_operator_change_is_announced_on_subscriptions_events(client, isolated_kafka):
    steps = [("POST", "pause", {"reason": "在庫切れ"}), ("POST", "resume", None), ("POST", "skip-next", None),
             ("PATCH", "schedule", {"every": 2, "unit": "week"}),
             ("PUT", "lines", {"lines": [{"sku": "TEA-9", "name": "玉露", "unit_price": 3000, "quantity": 2}]}),
             ("POST", "cancel", {"when": "after_current_cycle"})]
    for method, path, body in steps:
        response = await client.request(method, f"{BASE}/{path}", json=body, headers=operator())
        assert response.status_code == 200, (path, response.text)
    found = await lifecycle(isolated_kafka, at_least=2 + len(steps))
    changes = [(e.change, e.changed_by) for e in found if isinstance(e, SubscriptionChanged)]
    assert changes == [("paused", "operator"), ("resumed", "operator"), ("cycle_skipped", "operator"),
                       ("schedule_changed", "operator"), ("lines_changed", "operator"), ("canceled", "operator")]
    view = (await client.get(BASE, headers=operator())).json()
    assert (view["status"], view["ends_on"], view["terms"], view["lines"][0]["sku"]) == (
        "active", "2025-01-31", {"every": 2, "unit": "week"}, "TEA-9")


async def test_the_storefront_lists_and_changes_only_the_member_s_own_subscriptions(client, isolated_kafka):
    mine = (await client.get("/v1/shops/demo-shop/members/m-1001/subscriptions", headers=storefront())).json()
    assert [s["subscription_id"] for s in mine["subscriptions"]] == [SUB]
    others = await client.get("/v1/shops/demo-shop/members/m-9/subscriptions", headers=storefront())
    assert others.json() == {"subscriptions": []}
    problem(await client.post(f"/v1/shops/demo-shop/members/m-9/subscriptions/{SUB}/pause",
                              headers=storefront()), 404, "subscription_not_found")
    problem(await client.post(f"{MINE}/pause", headers=storefront("other-shop")), 404, "not_found")
    problem(await client.post(f"{MINE}/pause", headers=operator()), 401, "unauthorized")
    skipped = (await client.post(f"{MINE}/skip-next", headers=storefront())).json()
    assert skipped["next_cycle_on"] == "2025-03-31"
    assert (await client.post(f"{MINE}/pause", headers=storefront())).json()["status"] == "paused"
    assert (await client.post(f"{MINE}/cancel", json={"when": "at_once"}, headers=storefront())).json()[
        "status"] == "canceled"
    found = await lifecycle(isolated_kafka, at_least=5)
    changes = [(e.change, e.changed_by) for e in found if isinstance(e, SubscriptionChanged)]
    assert changes == [("cycle_skipped", "buyer"), ("paused", "buyer"), ("canceled", "buyer")]


async def test_health_reports_the_renewal_scheduler(client):
    health = await client.get("/health")
    assert health.status_code == 200 and health.json()["checks"]["renewal_scheduler"] is True


async def test_key_registration_needs_the_internal_token(client):
    refused = await client.put("/internal/v1/shops/demo-shop/storefront-key", json={"sha256": "0" * 64})
    problem(refused, 401, "unauthorized")


async def test_the_dev_clock_moves_only_forward(client):
    before = await advance(client)
    after = await advance(client, days=1)
    assert after["offset_s"] - before["offset_s"] == 86400
    problem(await client.post("/dev/clock", json={"advance_days": -1}), 422, "schema_invalid")


async def test_without_the_dev_setting_there_is_no_dev_clock_endpoint(database_url, isolated_kafka):
    app = create_app(settings(database_url, isolated_kafka).model_copy(update={"dev_clock": False}))
    async with running(app) as client:
        problem(await client.post("/dev/clock", json={"advance_days": 1}), 404, "not_found")
        assert (await client.get("/dev/clock")).status_code == 404
