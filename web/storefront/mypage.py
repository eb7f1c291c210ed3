"""The member's my-page: the registered card (masked, as the payment service shows it; register or replace it with
a token minted in the browser, or delete it) and the member's subscriptions (skip the next delivery, pause,
cancel). The demo "logs in" a member by id only: a real shop authenticates its members first, then calls the same
APIs with its storefront key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import Answer, segment
from web.storefront.shop import Storefront

SUB_ACTIONS = {"skip-next": "次回のお届けをスキップ", "pause": "休止", "cancel": "解約"}


def router(shop: Storefront) -> APIRouter:
    api = APIRouter(prefix="/mypage")

    def member_path(member_id: str) -> str:
        return f"{shop.shop_path}/members/{segment(member_id)}"

    @api.get("", response_class=HTMLResponse)
    async def mypage(request: Request) -> Response:
        session = shop.store.load(request)
        member_id = session.data.get("member_id") if session else None
        if not member_id:
            return shop.render(request, "login.html")
        card = await shop.call("payment", "GET", f"{member_path(member_id)}/card")
        subs = await shop.call("subscription", "GET", f"{member_path(member_id)}/subscriptions")
        message = session.data.pop("message", None) if session else None
        return shop.render(request, "mypage.html", card=card, subs=subs.body.get("subscriptions", []) if subs.ok
                           else [], subs_error=None if subs.ok else subs.message, message=message,
                           script_base=shop.settings.token_script_base, auth_code=shop.settings.token_auth_code,
                           actions=SUB_ACTIONS)

    @api.post("/login")
    async def login(request: Request) -> Response:
        session, form = await shop.posted(request)
        session.data["member_id"] = form.get("member_id", "").strip() or None
        return shop.back("/mypage")

    @api.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = await shop.posted(request)
        session.data.pop("member_id", None)
        return shop.back("/mypage")

    @api.post("/card")
    async def save_card(request: Request) -> Response:
        session, form = await shop.posted(request)
        member_id = session.data.get("member_id")
        if not member_id:
            return shop.back("/mypage")
        method = "PUT" if form.get("replace") == "1" else "POST"
        answer = await shop.call("payment", method, f"{member_path(member_id)}/card",
                                 json={"token": form.get("token", "")})
        done = "カードを登録しました。" if method == "POST" else "カードを変更しました。"
        session.data["message"] = _said(answer, done)
        return shop.back("/mypage")

    @api.post("/card/delete")
    async def delete_card(request: Request) -> Response:
        session, _ = await shop.posted(request)
        member_id = session.data.get("member_id")
        if member_id:
            answer = await shop.call("payment", "DELETE", f"{member_path(member_id)}/card")
            session.data["message"] = _said(answer, "カードを削除しました。")
        return shop.back("/mypage")

    @api.post("/subscriptions/{subscription_id}/{action}")
    async def subscription_action(request: Request, subscription_id: str, action: str) -> Response:
        session, _ = await shop.posted(request)
        member_id = session.data.get("member_id")
        if member_id and action in SUB_ACTIONS:
            body = {"when": "after_current_cycle"} if action == "cancel" else {}
            answer = await shop.call("subscription", "POST",
                                     f"{member_path(member_id)}/subscriptions/{segment(subscription_id)}/{action}",
                                     json=body)
            session.data["message"] = _said(answer, f"{SUB_ACTIONS[action]}を受け付けました。")
        return shop.back("/mypage")

    return api


def _said(answer: Answer, done: str) -> dict[str, str]:
    if answer.ok:
        return {"kind": "ok", "text": done}
    return {"kind": "error", "text": answer.message}
