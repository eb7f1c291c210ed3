"""定期購入 (list, detail with cycles and their orders, pause / resume / skip / cancel) and the customers' card
status (linked yes/no, never card data). Everything is the subscription and payment services' answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import segment
from web.console.context import Console, NotFound

SUB_STATUSES = {"active": "継続中", "paused": "休止中", "canceled": "解約済み", "ended": "終了"}
SUB_ACTIONS = {"pause": "休止", "resume": "再開", "skip-next": "次回スキップ", "cancel": "解約"}


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/subscriptions", response_class=HTMLResponse)
    async def subscription_list(request: Request, status: str = "", member_id: str = "", page: int = 1) -> Response:
        operator = console.operator(request)
        page = max(page, 1)
        answer = await console.call(operator, "subscription", "GET", "/subscriptions", params={
            "status": status, "member_id": member_id, "limit": console.page_size + 1,
            "offset": (page - 1) * console.page_size})
        found = answer.body.get("subscriptions", []) if answer.ok else []
        return console.render(request, operator, "subscriptions.html", subs=found[:console.page_size],
                              query={"status": status, "member_id": member_id}, page=page,
                              more=len(found) > console.page_size, statuses=SUB_STATUSES,
                              error=None if answer.ok else answer.message)

    @api.get("/subscriptions/{subscription_id}", response_class=HTMLResponse)
    async def subscription_detail(request: Request, subscription_id: str) -> Response:
        operator = console.operator(request)
        sub = await console.found(operator, "subscription", f"/subscriptions/{segment(subscription_id)}")
        if not sub.ok:
            return console.render(request, operator, "error.html", status=sub.status, title="表示できません",
                                  text=sub.message)
        card = await console.call(operator, "payment", "GET", f"/customers/{segment(sub.body['member_id'])}/card")
        return console.render(request, operator, "subscription.html", sub=sub.body, card=card,
                              statuses=SUB_STATUSES, actions=SUB_ACTIONS)

    @api.post("/subscriptions/{subscription_id}/{action}")
    async def subscription_action(request: Request, subscription_id: str, action: str) -> Response:
        operator, form = await console.posted(request)
        if action not in SUB_ACTIONS:
            raise NotFound
        body: dict[str, str] = {"reason": form["reason"]} if form.get("reason") else {}
        if action == "cancel":
            body["when"] = form.get("when", "after_current_cycle")
        answer = await console.call(operator, "subscription", "POST",
                                    f"/subscriptions/{segment(subscription_id)}/{action}", json=body)
        if answer.status == 404:
            raise NotFound
        if answer.ok:
            console.flash(operator, kind="ok", text=f"{SUB_ACTIONS[action]}しました。")
        else:
            console.flash(operator, kind="error", text=f"{SUB_ACTIONS[action]}できませんでした。",
                          detail=answer.message)
        return console.back(f"/subscriptions/{segment(subscription_id)}")

    @api.get("/customers", response_class=HTMLResponse)
    async def customers(request: Request, member_id: str = "") -> Response:
        operator = console.operator(request)
        card = None
        if member_id.strip():
            card = await console.call(operator, "payment", "GET", f"/customers/{segment(member_id.strip())}/card")
        return console.render(request, operator, "customers.html", member_id=member_id, card=card)

    return api
