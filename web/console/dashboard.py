"""ダッシュボード: today's orders (JST) by outcome as an SVG bar chart, decline codes grouped by the buyer message
R16 gives them (K99 / card company / shop), unknown outcomes awaiting review and failed mails. Counts come from
the services' search APIs (paged, bounded: `MAX_PAGES` pages of `PAGE`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.templating import JST
from web.console.chart import bar_chart
from web.console.context import Console, Operator
from web.console.orders import STATUSES

PAGE, MAX_PAGES = 500, 10


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request) -> Response:
        operator = console.operator(request)
        today = datetime.now(JST).date().isoformat()
        orders, complete = await _todays_orders(console, operator, today)
        by_status = Counter(o["status"] for o in orders)
        chart = bar_chart([(label, by_status.get(status, 0), status) for status, label in STATUSES.items()])
        review = await console.call(operator, "checkout", "GET", "/orders", params={"status": "needs_review",
                                                                                     "limit": PAGE})
        failed = await console.call(operator, "notification", "GET", "/mails", params={"status": "failed",
                                                                                        "limit": PAGE})
        return console.render(
            request, operator, "dashboard.html", today=today, total=len(orders), complete=complete, chart=chart,
            declines=_declines(orders), review=review.body.get("orders", []) if review.ok else [],
            failed_mails=failed.body if failed.ok else [], problems=[a.message for a in (review, failed)
                                                                     if not a.ok])

    return api


async def _todays_orders(console: Console, operator: Operator, today: str) -> tuple[list[dict[str, Any]], bool]:
    found: list[dict[str, Any]] = []
    for page in range(MAX_PAGES):
        answer = await console.call(operator, "checkout", "GET", "/orders", params={
            "from": today, "to": today, "limit": PAGE, "offset": page * PAGE})
        batch = answer.body.get("orders", []) if answer.ok else []
        found += batch
        if len(batch) < PAGE:
            return found, answer.ok
    return found, False


def _declines(orders: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Buyer message (R16's kind, as checkout recorded it) -> decline code -> count."""
    groups: dict[str, Counter[str]] = {}
    for order in orders:
        codes = order.get("gateway_codes") or []
        if order["status"] in ("rejected", "payment_failed") and codes:
            kind = order.get("buyer_message") or "（購入者向けメッセージなし）"
            groups.setdefault(kind, Counter()).update(codes)
    return groups
