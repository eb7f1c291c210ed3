"""Steps 2 and 3 of the checkout and its outcome.

Step 3 loads the gateway's token script; `static/storefront.js` turns the card fields (which have no `name`, so
the browser never posts them) into a one-time token and posts only that. The checkout API decides everything
(R1-R10 refusals come back as its 422 and are shown as given); the outcome page shows the buyer message the API
gives (R16: never a gateway code). An `action_required` outcome (3-D Secure) names a URL and form fields: the page
posts them there at once (the card company's authentication), and the gateway sends the buyer back through payment
to our return page (the checkout's `return_url`), which waits for the final outcome (`until=final`)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import segment
from web.storefront.catalogue import CARRIERS, SUBSCRIPTION_TERMS
from web.storefront.shop import Storefront, cart_lines, cart_total, has_subscription

BUYER_FIELDS = ("name", "name_kana", "email", "member_id", "carrier_id", "recipient_name", "postal_code",
                "prefecture", "city", "address_line1", "address_line2", "phone")
FINAL = ("completed", "rejected", "needs_review", "payment_failed")
MAX_FIELD = 200  # buyer fields travel in the session cookie; the checkout API has its own, tighter limits
RETURN_WAIT_S = 20


def router(shop: Storefront) -> APIRouter:
    api = APIRouter(prefix="/checkout")

    @api.get("/buyer", response_class=HTMLResponse)
    async def buyer_page(request: Request) -> Response:
        session = shop.store.load(request)
        if session is None or not session.data.get("cart"):
            return shop.back("/cart")
        buyer = session.data.get("buyer") or {"member_id": session.data.get("member_id") or ""}
        return shop.render(request, "buyer.html", buyer=buyer, carriers=CARRIERS,
                           subscription=has_subscription(session.data["cart"]))

    @api.post("/buyer")
    async def buyer_post(request: Request) -> Response:
        session, form = await shop.posted(request)
        session.data["buyer"] = {name: form.get(name, "").strip()[:MAX_FIELD] for name in BUYER_FIELDS}
        return shop.back("/checkout/card")

    @api.get("/card", response_class=HTMLResponse)
    async def card_page(request: Request) -> Response:
        return await _card_page(shop, request, errors=None)

    @api.post("/pay")
    async def pay(request: Request) -> Response:
        session, form = await shop.posted(request)
        cart, buyer = session.data.get("cart") or {}, session.data.get("buyer")
        if not cart or not buyer:
            return shop.back("/cart")
        checkout_id = (form.get("checkout_id") or uuid.uuid4().hex)[:100]
        body = checkout_body(checkout_id, cart, buyer, form)
        body["return_url"] = shop.public_url(request, f"/checkout/return?checkout_id={quote(checkout_id)}")
        answer = await shop.call("checkout", "POST", "/v1/checkouts", json=body,
                                 params={"wait": shop.settings.checkout_wait_s})
        if not answer.ok:
            return await _card_page(shop, request, errors=answer.message, status=answer.status)
        session.data["checkout_id"] = body["checkout_id"]
        return shop.back("/checkout/result")

    @api.get("/result", response_class=HTMLResponse)
    async def result(request: Request) -> Response:
        session = shop.store.load(request)
        if session is None or "checkout_id" not in session.data:
            return shop.back("/")
        answer = await shop.call("checkout", "GET", f"/v1/checkouts/{segment(session.data['checkout_id'])}",
                                 params={"wait": 5})
        outcome = answer.body if answer.ok else {"status": "error", "reason": answer.message}
        action = pending_action(outcome)
        if action is not None:
            if session.data.get("action_sent") == session.data["checkout_id"]:
                # the back button after the card company's page: never post the same authentication twice
                return shop.back(f"/checkout/return?checkout_id={quote(session.data['checkout_id'])}")
            session.data["action_sent"] = session.data["checkout_id"]
            return shop.render(request, "redirecting.html", action=action)
        return _outcome_page(shop, request, outcome)

    @api.get("/return", response_class=HTMLResponse)
    async def returned(request: Request, checkout_id: str = "") -> Response:
        """Where the card company's page sends the buyer back (through payment, which recorded the result): the
        final outcome once the charge after the authentication has run, or the waiting page until then."""
        session = shop.store.load(request)
        if session is None or not checkout_id or session.data.get("checkout_id") != checkout_id:
            raise HTTPException(404, "このご注文は見つかりません。ご注文の結果はメールでお知らせします。")
        answer = await shop.call("checkout", "GET", f"/v1/checkouts/{segment(checkout_id)}",
                                 params={"wait": RETURN_WAIT_S, "until": "final"})
        outcome = answer.body if answer.ok else {"status": "error", "reason": answer.message}
        return _outcome_page(shop, request, outcome, three_d_secure=True)

    return api


def _outcome_page(shop: Storefront, request: Request, outcome: dict[str, Any], *,
                  three_d_secure: bool = False) -> Response:
    session = shop.store.ensure(request)
    if outcome.get("status") == "completed":
        session.data.pop("cart", None)
    return shop.render(request, "result.html", outcome=outcome, final=outcome.get("status") in FINAL,
                       three_d_secure=three_d_secure)


async def _card_page(shop: Storefront, request: Request, *, errors: str | None, status: int = 200) -> Response:
    session = shop.store.load(request)
    if session is None or not session.data.get("cart") or not session.data.get("buyer"):
        return shop.back("/cart")
    cart, buyer = session.data["cart"], session.data["buyer"]
    subscription = has_subscription(cart)
    availability = await shop.call("checkout", "GET", "/v1/payment-methods/escott_card/availability", params={
        "cart_type": "subscription" if subscription else "three_step", "amount": cart_total(cart, buyer["carrier_id"]),
        "carrier_id": buyer["carrier_id"], "member_id": buyer["member_id"] or None,
        "subscription": "true" if subscription else None})
    if availability.status >= 500 or availability.status == 401:
        raise HTTPException(503, "ただいまお支払い方法を表示できません。しばらくしてからお試しください。")
    return shop.render(request, "card.html", status=status, errors=errors, lines=cart_lines(cart), buyer=buyer,
                       carrier=CARRIERS.get(buyer["carrier_id"]), total=cart_total(cart, buyer["carrier_id"]),
                       method=availability.body if availability.ok else {"offered": False,
                                                                         "reason": availability.message},
                       checkout_id=f"demo-{uuid.uuid4().hex}", script_base=shop.settings.token_script_base,
                       auth_code=shop.settings.token_auth_code)


def checkout_body(checkout_id: str, cart: dict[str, int], buyer: dict[str, str],
                  form: dict[str, str]) -> dict[str, Any]:
    """`CheckoutRequested` as the storefront API takes it: the token minted in the browser, or the registered card."""
    registered = form.get("card_choice") == "registered"
    carrier = CARRIERS.get(buyer["carrier_id"])
    subscription = has_subscription(cart)
    return {
        "checkout_id": checkout_id, "cart_type": "subscription" if subscription else "three_step",
        "buyer": {"name": buyer["name"], "name_kana": buyer["name_kana"], "email": buyer["email"],
                  "member_id": buyer["member_id"] or None},
        "shipping": {"carrier_id": buyer["carrier_id"], "fee": carrier.fee if carrier else None,
                     "recipient_name": buyer["recipient_name"] or buyer["name"], "postal_code": buyer["postal_code"],
                     "prefecture": buyer["prefecture"], "city": buyer["city"],
                     "address_line1": buyer["address_line1"], "address_line2": buyer["address_line2"],
                     "phone": buyer["phone"] or None},
        "lines": cart_lines(cart), "fees": [],
        "payment": {"method": "escott_card", "token": None if registered else (form.get("token") or None),
                    "use_registered_card": registered, "pay_type": form.get("pay_type") or "01",
                    "keep_card": ("keep_card" in form) if buyer["member_id"] and not registered else None},
        "subscription": SUBSCRIPTION_TERMS if subscription else None,
    }  # fmt: skip


def pending_action(outcome: Any) -> dict[str, Any] | None:
    """An answer that asks the browser to go somewhere (3-D Secure: a checkout's `status`, a member card change's
    `result` is `action_required`): the first member holding a `url` (or `action_url`) and form fields (`fields`,
    `form_fields`, `form` or `params`), with the HTTP method (POST unless it says GET). None for any other answer."""
    if not isinstance(outcome, dict) or "action_required" not in (outcome.get("status"), outcome.get("result")):
        return None
    for candidate in [outcome, *(v for v in outcome.values() if isinstance(v, dict))]:
        url = candidate.get("url") or candidate.get("action_url") or candidate.get("redirect_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            continue
        fields: dict[str, Any] = next((candidate[k] for k in ("fields", "form_fields", "form", "params")
                       if isinstance(candidate.get(k), dict)), {})
        method = str(candidate.get("method", "POST")).upper()
        return {"url": url, "method": "get" if method == "GET" else "post",
                "fields": {str(k): str(v) for k, v in fields.items()}}
    return None
