"""Rows <-> domain objects: the subscription's contents are one jsonb document (buyer, shipping, lines, fees)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.subscription.domain.contents import Buyer, Contents, Fee, Line, Shipping
from services.subscription.domain.cycles import Cycle, CycleStatus
from services.subscription.domain.schedule import Terms, Unit
from services.subscription.domain.subscription import Status, Subscription


def contents_json(contents: Contents) -> str:
    """`vars()`, not `dataclasses.asdict`: the parts are flat, and asdict's deep copies were a third of the
    scheduler's CPU per renewal (bench/renewals_bench.py)."""
    return json.dumps({"buyer": vars(contents.buyer), "shipping": vars(contents.shipping),
                       "lines": [vars(x) for x in contents.lines], "fees": [vars(x) for x in contents.fees]},
                      ensure_ascii=False)


def contents_from(raw: str) -> Contents:
    data: dict[str, Any] = json.loads(raw)
    return Contents(buyer=Buyer(**data["buyer"]), shipping=Shipping(**data["shipping"]),
                    lines=tuple(Line(**x) for x in data["lines"]), fees=tuple(Fee(**x) for x in data["fees"]))


def subscription_from(row: asyncpg.Record) -> Subscription:
    return Subscription(
        subscription_id=row["subscription_id"], shop_id=row["shop_id"], member_id=row["member_id"],
        first_order_id=row["first_order_id"], contents=contents_from(row["contents"]),
        terms=Terms(row["every"], Unit(row["unit"])), anchor_day=row["anchor_day"], status=Status(row["status"]),
        started_on=row["started_on"], next_cycle_on=row["next_cycle_on"], last_cycle_on=row["last_cycle_on"],
        cycle_count=row["cycle_count"], ends_on=row["ends_on"], version=row["version"],
    )  # fmt: skip


def cycle_from(row: asyncpg.Record) -> Cycle:
    return Cycle(subscription_id=row["subscription_id"], cycle_no=row["cycle_no"],
                 scheduled_for=row["scheduled_for"], requested_at=row["requested_at"], order_id=row["order_id"],
                 status=CycleStatus(row["status"]), reason_code=row["reason_code"], settled_at=row["settled_at"])
