"""ダッシュボード: today's orders (JST) by outcome as an SVG bar chart, decline codes grouped by the buyer message
R16 gave them (K99 / card company / shop), unknown outcomes awaiting review and failed mails. The counts are the
services' (checkout's `GET …/order-counts`, the review search, notification's failed mails)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.console.chart import bar_chart
from web.console.context import Console
from web.console.orders import STATUSES

LIST_LIMIT = 500
NO_MESSAGE = "（購入者向けメッセージなし）"


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request) -> Response:
        operator = console.operator(request)
        counts = await console.call(operator, "checkout", "GET", "/order-counts")
        review = await console.call(operator, "checkout", "GET", "/orders", params={"status": "needs_review",
                                                                                     "limit": LIST_LIMIT})
        failed = await console.call(operator, "notification", "GET", "/mails", params={"status": "failed",
                                                                                        "limit": LIST_LIMIT})
        by_status: dict[str, int] = counts.body.get("by_status", {}) if counts.ok else {}
        chart = bar_chart([(label, by_status.get(status, 0), status) for status, label in STATUSES.items()])
        return console.render(
            request, operator, "dashboard.html", today=counts.body.get("date", "") if counts.ok else "",
            total=sum(by_status.values()), chart=chart, declines=_declines(counts.body if counts.ok else {}),
            review=review.body.get("orders", []) if review.ok else [], failed_mails=failed.body if failed.ok else [],
            problems=[a.message for a in (counts, review, failed) if not a.ok])

    return api


def _declines(counts: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """Buyer message (R16's kind) -> [(decline code, orders)], in the API's order (most frequent first)."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for row in counts.get("declines", []):
        groups.setdefault(row.get("buyer_message") or NO_MESSAGE, []).append((row["code"], row["orders"]))
    return groups
