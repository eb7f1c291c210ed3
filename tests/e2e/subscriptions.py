"""Helpers of the subscription end-to-end tests (tests/e2e/test_subscriptions.py): the subscription service's
operator, storefront (my-page) and dev-clock APIs, checkout's renewal orders, the emulator's counters, the SMTP sink
and the topics, seen from outside the running stack."""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx

from contracts.envelope import Envelope
from contracts.topics import SUBSCRIPTIONS_EVENTS
from delivery.settings import KafkaSettings
from deploy.local import demo_shop as demo
from tests.e2e.stack import Shop, Stack
from tests.kafka_reading import read_topic
from tests.waiting import eventually

JST = timezone(timedelta(hours=9))
MONTHLY = {"every": 1, "unit": "month"}


@dataclass(frozen=True, kw_only=True)
class Started:
    """A subscription started by a real first order, and the gateway member its card was linked to."""

    subscription_id: str
    member_id: str
    first_order_id: str
    kaiin_id: str


def ok(response: httpx.Response) -> Any:
    """The JSON of a 200 answer (any other status fails the test with the answer)."""
    assert response.status_code == 200, (response.request.url, response.status_code, response.text[:2000])
    return response.json()


async def subscription_call(shop: Shop, method: str, path: str, **kwargs: Any) -> Any:
    """The subscription service's operator API of the demo shop."""
    url = f"{shop.stack.urls['subscription']}/v1/shops/{shop.shop_id}/subscriptions{path}"
    return await shop.http.request(method, url, headers=shop.operator, **kwargs)


async def start(shop: Shop) -> Started:
    """A member's first order in the subscription cart, monthly; its subscription as the operator lists it."""
    member = f"m-{uuid.uuid4().hex[:10]}"
    body = shop.body(await shop.token(), member_id=member, cart_type="subscription", subscription=MONTHLY)
    outcome = ok(await shop.checkout(body))
    assert outcome["status"] == "completed", outcome
    [tx] = await shop.emulator("transactions", MerchantFree1=outcome["payment_number"])
    assert tx["kaiin_id"], tx  # the first order linked the card (R19) and paid by member

    async def listed() -> list[dict[str, Any]]:
        found = await subscription_call(shop, "GET", "", params={"member_id": member})
        return list(ok(found)["subscriptions"])

    [sub] = await eventually(listed, message=f"subscription of {member} started")
    assert (sub["first_order_id"], sub["status"]) == (outcome["order_id"], "active")
    return Started(subscription_id=sub["subscription_id"], member_id=member, first_order_id=outcome["order_id"],
                   kaiin_id=tx["kaiin_id"])


async def my_page(shop: Shop, sub: Started, action: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The storefront's my-page changing the member's own subscription (storefront key + member id)."""
    url = (f"{shop.stack.urls['subscription']}/v1/shops/{shop.shop_id}/members/{sub.member_id}/subscriptions/"
           f"{sub.subscription_id}/{action}")
    return dict(ok(await shop.http.post(url, json=body, headers={"X-Storefront-Key": demo.STOREFRONT_KEY})))


async def view(shop: Shop, sub: Started) -> dict[str, Any]:
    return dict(ok(await subscription_call(shop, "GET", f"/{sub.subscription_id}")))


def cycle_date(started_on: str, periods: int) -> date:
    """The delivery date `periods` months after the start, on the start's day or the month's last (a buyer's
    expectation of a monthly subscription); cycle n is delivered on cycle_date(start, n - 1)."""
    start_day = date.fromisoformat(started_on)
    year, month = divmod(start_day.month - 1 + periods, 12)
    year, month = start_day.year + year, month + 1
    return date(year, month, min(start_day.day, calendar.monthrange(year, month)[1]))


async def dev_today(shop: Shop) -> date:
    now = ok(await shop.http.get(f"{shop.stack.urls['subscription']}/dev/clock"))["now"]
    return datetime.fromisoformat(now).astimezone(JST).date()


async def move_clock_to(shop: Shop, day: date) -> None:
    """The subscription service's clock to `day` (JST), same time of day; renewals are generated at 00:00 JST of
    the delivery day in the demo shop (lead 0 days, hour 0)."""
    days = (day - await dev_today(shop)).days
    assert days >= 0, f"the dev clock is already past {day}"
    moved = await shop.http.post(f"{shop.stack.urls['subscription']}/dev/clock", json={"advance_days": days})
    assert moved.status_code == 200, moved.text


async def next_cycle(shop: Shop, sub: Started) -> int:
    """Move the clock to the subscription's next delivery; its cycle number once recorded."""
    before = await view(shop, sub)
    await move_clock_to(shop, date.fromisoformat(before["next_cycle_on"]))
    return await cycles_recorded(shop, sub, before["cycle_count"] + 1)


async def cycles_recorded(shop: Shop, sub: Started, count: int) -> int:
    async def recorded() -> bool:
        return bool((await view(shop, sub))["cycle_count"] >= count)

    await eventually(recorded, interval=0.1, message=f"{sub.subscription_id}: {count} cycles recorded")
    return count


async def scheduled_through(shop: Shop, active: Started, day: date) -> None:
    """Wait until the scheduler has acted on the clock's move to `day`: an active subscription's next delivery is
    after it (what was due then has been generated, for every subscription)."""
    async def moved_on() -> bool:
        return date.fromisoformat((await view(shop, active))["next_cycle_on"]) > day

    await eventually(moved_on, interval=0.1, message=f"scheduler past {day}")


async def renewal_orders(shop: Shop, sub: Started) -> dict[int, list[dict[str, Any]]]:
    """The shop's renewal orders of one subscription, by cycle number (checkout's operator API)."""
    orders = ok(await shop.operator_call("GET", "/orders?limit=500"))["orders"]
    found: dict[int, list[dict[str, Any]]] = {}
    for order in orders:
        if order["renewal"] and order["renewal"]["subscription_id"] == sub.subscription_id:
            found.setdefault(order["renewal"]["cycle_no"], []).append(order)
    return found


async def settled_order(shop: Shop, sub: Started, *, cycle_no: int, status: str) -> dict[str, Any]:
    """The one renewal order of a cycle once it has `status`, in full (operator view)."""
    async def reached() -> dict[str, Any] | None:
        found = (await renewal_orders(shop, sub)).get(cycle_no, [])
        assert len(found) <= 1, found
        return found[0] if found and found[0]["status"] == status else None

    summary = await eventually(reached, interval=0.1, message=f"cycle {cycle_no} order {status}")
    return dict(ok(await shop.operator_call("GET", f"/orders/{summary['order_id']}")))


async def cycle_outcome(shop: Shop, sub: Started, *, cycle_no: int, status: str) -> dict[str, Any]:
    """A cycle as the subscription's view shows it once settled with `status`."""
    async def reached() -> dict[str, Any] | None:
        cycles = {c["cycle_no"]: c for c in (await view(shop, sub))["cycles"]}
        return cycles[cycle_no] if cycles.get(cycle_no, {}).get("status") == status else None

    return await eventually(reached, interval=0.1, message=f"cycle {cycle_no} {status} in the subscription")


async def auth_counts(shop: Shop) -> dict[str, int]:
    return dict((await shop.emulator("stats"))["operations"].get("1Auth", {"requests": 0, "ok": 0, "errors": 0}))


def kafka_of(stack: Stack) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
                         topic_prefix=stack.env["KAFKA_TOPIC_PREFIX"])


async def subscription_events(stack: Stack, sub: Started, *, at_least: int = 1) -> list[Envelope]:
    kafka = kafka_of(stack)
    records = await read_topic(kafka, kafka.topic(SUBSCRIPTIONS_EVENTS), at_least=at_least, settle=0.3)
    found = [Envelope.from_bytes(r.value) for r in records]
    return [e for e in found if e.data["subscription_id"] == sub.subscription_id]


async def mails_of(shop: Shop, order_id: str, *, at_least: int = 0) -> list[dict[str, Any]] | None:
    """The mails the SMTP sink received for an order (None until at least `at_least`)."""
    messages = ok(await shop.http.get(f"{shop.stack.urls['smtp-sink']}/messages"))
    found = [m for m in messages if m["order_id"] == order_id]
    return found if len(found) >= at_least else None


def kinds(mails: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    return sorted((m["kind"], m["rcpt_to"][0]) for m in mails or ())


async def reconfigure(shop: Shop, **changes: Any) -> None:
    response = await shop.operator_call("PUT", "/payment-methods/escott_card", {**demo.CARD, **changes})
    assert response.status_code == 200, response.text


async def changes(stack: Stack, sub: Started) -> list[tuple[str, str]]:
    """The subscription's `SubscriptionChanged` events on Kafka: (change, changed_by)."""
    return [(e.data["change"], e.data["changed_by"]) for e in await subscription_events(stack, sub)
            if e.type == "subscription.changed.v1"]
