"""How subscriptions and cycles look in the HTTP API (JSON-ready dicts)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from services.subscription.domain.cycles import Cycle
from services.subscription.domain.subscription import Subscription
from services.subscription.handlers.queries import SubscriptionDetail


def state_view(sub: Subscription) -> dict[str, Any]:
    """The state a 409 answers with: what the subscription is now."""
    return {"subscription_id": sub.subscription_id, "status": sub.status.value,
            "next_cycle_on": _iso(sub.next_due_on), "ends_on": _iso(sub.ends_on)}


def subscription_view(sub: Subscription, *, card_expiring: bool | None = None) -> dict[str, Any]:
    """The subscription; the reading views (`card_expiring` given) also say whether the member's card will have
    expired by the next renewal (`card_expires_before_next_renewal`, yes/no: never card data)."""
    contents = sub.contents
    card = {} if card_expiring is None else {"card_expires_before_next_renewal": card_expiring}
    return {
        **state_view(sub), "shop_id": sub.shop_id, "member_id": sub.member_id,
        "first_order_id": sub.first_order_id, "terms": {"every": sub.terms.every, "unit": sub.terms.unit.value},
        "started_on": _iso(sub.started_on), "last_cycle_on": _iso(sub.last_cycle_on),
        "cycle_count": sub.cycle_count, "buyer": asdict(contents.buyer), "shipping": asdict(contents.shipping),
        "lines": [asdict(x) for x in contents.lines], "fees": [asdict(x) for x in contents.fees], **card,
    }  # fmt: skip


def cycle_view(cycle: Cycle) -> dict[str, Any]:
    return {"cycle_no": cycle.cycle_no, "scheduled_for": _iso(cycle.scheduled_for), "order_id": cycle.order_id,
            "status": cycle.status.value, "reason_code": cycle.reason_code,
            "requested_at": _iso(cycle.requested_at), "settled_at": _iso(cycle.settled_at)}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def detail_view(detail: SubscriptionDetail) -> dict[str, Any]:
    """One subscription as the reading views show it: with its cycles and the card status."""
    return {**subscription_view(detail.subscription, card_expiring=detail.card_expires_first),
            "cycles": [cycle_view(c) for c in detail.cycles]}


def list_view(subs: list[Subscription], expiring: set[str]) -> dict[str, list[dict[str, Any]]]:
    return {"subscriptions": [subscription_view(s, card_expiring=s.subscription_id in expiring) for s in subs]}
