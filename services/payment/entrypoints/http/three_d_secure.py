"""Public 3-D Secure return (design §6.7): the gateway's auto-submitted form reaches payment here, with no key.

`POST /public/v1/three-d-secure/{order_id}/return` (form field `EncryptValue`): opened with the shop's 3-D Secure
key, recorded once, then the browser is sent (303) to the storefront's `return_url` with `?order_id=`, or shown a
short page when the storefront gave none. A return the shop's key cannot open, or that names another
authentication, is 400 `authentication_return_invalid`; one arriving after the result was recorded with another
result, after the deadline (`authentication_abandoned`), or for a payment that asked for none is 409. The same
return again (the back button, a double submit) changes nothing and is redirected like the first.

`POST /public/v1/three-d-secure/cards/{change_id}/return`: the same for a card registered or replaced on the
member's card page (`handlers/card_authentication.py`); the browser goes to the card page's `return_url` with
`?change_id=…&result=done|failed|unknown` once the change is finished; the card page reads
`GET /v1/shops/{shop_id}/members/{member_id}/card/changes/{change_id}` for the reason and the buyer message.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from delivery.problems import Problem
from services.payment.domain.card_rules import CardRefused
from services.payment.handlers.authentication import ReturnOutcome, record_return
from services.payment.handlers.card_authentication import record_card_return
from services.payment.handlers.deps import Deps
from services.payment.handlers.steps import PaymentNotFound

MAX_BODY = 16 * 1024
_PAGE = ('<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>お支払い</title></head><body>'
         '<p>本人認証の結果を受け付けました。お支払いの結果はショップの画面でご確認ください。</p></body></html>')


def router(deps: Deps) -> APIRouter:
    routes = APIRouter(prefix="/public/v1/three-d-secure", tags=["public"])

    @routes.post("/{order_id}/return", summary="The gateway's 3-D Secure return (the buyer's browser, no key)",
                 status_code=303, response_class=Response,
                 responses={303: {"description": "recorded (or the same return again): on to the storefront"},
                            200: {"description": "recorded; the storefront gave no return_url"}})
    async def receive(order_id: str, request: Request) -> Response:
        encrypt_value = await _encrypt_value(request)
        try:
            outcome = await record_return(deps, order_id=order_id, encrypt_value=encrypt_value)
        except PaymentNotFound:
            raise Problem(404, "payment_not_found", f"no payment {order_id!r} awaits 3-D Secure") from None
        return _answer(outcome)

    @routes.post("/cards/{change_id}/return", summary="The gateway's 3-D Secure return for a card registered or "
                 "replaced on the member's card page (the browser, no key)", status_code=303, response_class=Response,
                 responses={303: {"description": "recorded (or the same return again): on to the card page"},
                            200: {"description": "recorded; the card page gave no return_url"}})
    async def receive_card(change_id: UUID, request: Request) -> Response:
        encrypt_value = await _encrypt_value(request)
        try:
            outcome = await record_card_return(deps, change_id=str(change_id), encrypt_value=encrypt_value)
        except LookupError:
            raise Problem(404, "card_change_not_found", f"no card change {change_id} awaits 3-D Secure") from None
        except CardRefused as refused:
            raise Problem(409, refused.reason_code, refused.detail) from None
        return _answer(ReturnOutcome(status=outcome.status, return_url=outcome.return_url, order_id="",
                                     reason=outcome.reason),
                       query={"change_id": outcome.change_id, "result": outcome.state or ""})

    return routes


async def _encrypt_value(request: Request) -> str:
    body = (await request.body())[:MAX_BODY].decode("utf-8", errors="replace")
    encrypt_value = dict(parse_qsl(body, keep_blank_values=True)).get("EncryptValue", "")
    if not encrypt_value:
        raise Problem(400, "authentication_return_invalid", "the return carries no EncryptValue")
    return encrypt_value


def _answer(outcome: ReturnOutcome, *, query: dict[str, str] | None = None) -> Response:
    if outcome.status == "refused":
        status = 400 if outcome.reason == "authentication_return_invalid" else 409
        raise Problem(status, outcome.reason or "authentication_refused",
                      "this 3-D Secure return was refused; it changed nothing")
    if outcome.return_url is None:
        return HTMLResponse(_PAGE)
    parts = urlsplit(outcome.return_url)
    added = urlencode(query if query is not None else {"order_id": outcome.order_id})
    joined = "&".join(q for q in (parts.query, added) if q)
    return RedirectResponse(urlunsplit(parts._replace(query=joined)), status_code=303)
