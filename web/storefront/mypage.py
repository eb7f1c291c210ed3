"""The member's my-page: the registered card (masked, as the payment service shows it; register or replace it with
a token minted in the browser, or delete it) and the member's subscriptions (skip the next delivery, pause,
cancel). With the shop's 3-D Secure on, payment answers a register or replace with `action_required`: the page
posts its form to the card company, and the buyer comes back to `/mypage/card/return`, which reads how the change
ended (`GET …/card/changes/{change_id}`: its buyer message when it failed, R16). The demo "logs in" a member by
id only: a real shop authenticates its members first, then calls the same APIs with its storefront key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import Answer, segment
from web.storefront.checkout_flow import pending_action
from web.storefront.shop import Storefront

PENDING = "カードの登録結果を確認しています。しばらくしてからこのページを開き直してください。"
DONE = {"POST": "カードを登録しました。", "PUT": "カードを変更しました。"}
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
        answer = await shop.call("payment", method, f"{member_path(member_id)}/card", json={
            "token": form.get("token", ""), "return_url": shop.public_url(request, "/mypage/card/return")})
        action = pending_action(answer.body) if answer.ok else None
        if action is not None:  # 3-D Secure: on to the card company's page
            return shop.render(request, "redirecting.html", action=action)
        session.data["message"] = _said(answer, DONE[method])
        return shop.back("/mypage")

    @api.get("/card/return")
    async def card_returned(request: Request, change_id: str = "") -> Response:
        """Back from the card company (through payment, which finished the change): how it ended, on the my-page."""
        session = shop.store.load(request)
        member_id = session.data.get("member_id") if session else None
        if session is None or not member_id or not change_id:
            return shop.back("/mypage")
        answer = await shop.call("payment", "GET", f"{member_path(member_id)}/card/changes/{segment(change_id)}")
        session.data["message"] = _change_said(answer)
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


def _change_said(answer: Answer) -> dict[str, str]:
    """A 3-D Secure card change as the member is told it: done, failed with the buyer message, or still open."""
    if not answer.ok or not isinstance(answer.body, dict):
        return {"kind": "error", "text": answer.message}
    change = answer.body
    if change.get("state") == "done":
        return {"kind": "ok", "text": DONE["POST" if change.get("kind") == "register" else "PUT"]}
    if change.get("state") == "failed":
        return {"kind": "error", "text": change.get("buyer_message") or "カードを登録できませんでした。"}
    return {"kind": "error", "text": PENDING}


def _said(answer: Answer, done: str) -> dict[str, str]:
    if answer.ok:
        return {"kind": "ok", "text": done}
    return {"kind": "error", "text": answer.message}
