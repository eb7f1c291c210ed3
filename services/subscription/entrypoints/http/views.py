"""How subscriptions and cycles look in the HTTP API (JSON-ready dicts)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from services.subscription.domain.cycles import Cycle
from services.subscription.domain.subscription import Subscription


def state_view(sub: Subscription) -> dict[str, Any]:
    """The state a 409 answers with: what the subscription is now."""
    return {"subscription_id": sub.subscription_id, "status": sub.status.value,
            "next_cycle_on": _iso(sub.next_due_on), "ends_on": _iso(sub.ends_on)}


def subscription_view(sub: Subscription) -> dict[str, Any]:
    contents = sub.contents
    return {
        **state_view(sub), "shop_id": sub.shop_id, "member_id": sub.member_id,
        "first_order_id": sub.first_order_id, "terms": {"every": sub.terms.every, "unit": sub.terms.unit.value},
        "started_on": _iso(sub.started_on), "last_cycle_on": _iso(sub.last_cycle_on),
        "cycle_count": sub.cycle_count, "buyer": asdict(contents.buyer), "shipping": asdict(contents.shipping),
        "lines": [asdict(x) for x in contents.lines], "fees": [asdict(x) for x in contents.fees],
    }  # fmt: skip


def cycle_view(cycle: Cycle) -> dict[str, Any]:
    return {"cycle_no": cycle.cycle_no, "scheduled_for": _iso(cycle.scheduled_for), "order_id": cycle.order_id,
            "status": cycle.status.value, "reason_code": cycle.reason_code,
            "requested_at": _iso(cycle.requested_at), "settled_at": _iso(cycle.settled_at)}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
