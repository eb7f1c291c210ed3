"""要確認: orders whose payment outcome is unknown (`needs_review`), with the payment number to look up in Sony's
screen and the resolve form; and the payment service's list of payments waiting for an operator: operations of
unknown outcome (a capture, cancel or update) and two live holds (an amount update whose old hold could not be
released). The resolution itself is the payment service's (design §6.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import segment
from web.console.context import Console, NotFound, Operator


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/review", response_class=HTMLResponse)
    async def review(request: Request) -> Response:
        operator = console.operator(request)
        waiting = await console.call(operator, "checkout", "GET", "/orders", params={"status": "needs_review",
                                                                                      "limit": 200})
        orders = waiting.body.get("orders", []) if waiting.ok else []
        return console.render(request, operator, "review.html", orders=orders, payments=await payments_waiting(
            console, operator), error=None if waiting.ok else waiting.message)

    @api.post("/review/{order_id}/resolve")
    async def resolve(request: Request, order_id: str) -> Response:
        return await _resolve(console, request, order_id, "resolve")

    @api.post("/review/{order_id}/resolve-operation")
    async def resolve_operation(request: Request, order_id: str) -> Response:
        return await _resolve(console, request, order_id, "operations/resolve")

    return api


async def _resolve(console: Console, request: Request, order_id: str, path: str) -> Response:
    operator, form = await console.posted(request)
    body: dict[str, Any] = {"outcome": form.get("outcome", "")}
    for name in ("transaction_id", "approval_number", "process_id", "process_pass"):
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    answer = await console.call(operator, "payment", "POST", f"/payments/{segment(order_id)}/{path}", json=body)
    if answer.status == 404:
        raise NotFound
    if answer.ok:
        console.flash(operator, kind="ok", text="結果を記録しました。")
    else:
        console.flash(operator, kind="error", text="結果を記録できませんでした。", detail=answer.message)
    return console.back(f"/orders/{segment(order_id)}")


async def payments_waiting(console: Console, operator: Operator) -> list[dict[str, Any]]:
    """The payment service's list of this shop's payments an operator must act on (unknown outcome or
    operation, two live holds)."""
    answer = await console.call(operator, "payment", "GET", "/payments", params={"limit": 200})
    return answer.body.get("payments", []) if answer.ok else []
