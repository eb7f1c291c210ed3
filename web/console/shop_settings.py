"""ショップ設定: the card payment method (with EMV 3-D Secure on/off and the accepted results), carriers, mail,
gateway credentials (write-only: never shown, never prefilled). Each form writes one part through checkout's
settings API with the ETag the page was read with (If-Match), so two operators never overwrite each other silently;
refusals are shown as the API words them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import Answer
from web.common.forms import int_field, read_form_items
from web.common.sessions import check_csrf
from web.console.context import Console, NotFound, Operator

CARD_TEXT = ("display_name", "logo_url", "logo_alt", "contract_start", "contract_end")
CARD_CHOICES = ("sales_mode", "card_link_mode", "renewal_sales_mode")
CARD_SWITCHES = ("show_installments", "subscriptions_enabled", "authorize_at_renewal", "notify_card_changes")
NOTE_SWITCHES = ("on_payment_page", "in_thanks_mail")
TDS_OPTIONAL = ("2", "3")  # SecureResultCodes a shop may accept besides 0 (1, 8, 9 never: the API refuses them)
OPTIONAL_CREDENTIALS = ("tenant_id", "three_d_secure_key", "three_d_secure_iv")  # blank: not sent
PARTS = {"card": "カード決済", "carriers": "配送業者", "mail": "メール", "credentials": "接続情報"}


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/settings", response_class=HTMLResponse)
    async def settings_page(request: Request) -> Response:
        operator = console.operator(request)
        answer = await console.call(operator, "checkout", "GET", "/settings")
        if not answer.ok:
            return console.render(request, operator, "error.html", status=answer.status, title="設定を表示できません",
                                  text=answer.message)
        card = (answer.body.get("payment_methods") or [None])[0]
        return console.render(request, operator, "settings.html", shop=answer.body, card=card,
                              etag=answer.headers.get("etag", ""))

    @api.post("/settings/{part}")
    async def save(request: Request, part: str) -> Response:
        items = await read_form_items(request)
        operator = console.operator(request)
        form = dict(items)
        check_csrf(operator.session, form)
        if part not in PARTS:
            raise NotFound
        answer = await _write(console, operator, part, items)
        if answer.ok:
            console.flash(operator, kind="ok", text=f"{PARTS[part]}の設定を保存しました。")
        elif answer.status == 412:
            console.flash(operator, kind="error", detail=answer.message,
                          text="ほかの方が設定を変更しました。最新の設定を確認してから、もう一度保存してください。")
        else:
            console.flash(operator, kind="error", text=f"{PARTS[part]}の設定を保存できませんでした。",
                          detail=answer.message)
        return console.back(f"/settings#{part}")

    return api


async def _write(console: Console, operator: Operator, part: str, items: list[tuple[str, str]]) -> Answer:
    form = dict(items)
    if_match = {"If-Match": form["etag"]} if form.get("etag") else {}
    if part == "credentials":
        names = ("merchant_id", "merchant_pass", "token_auth_code", "tenant_id", "three_d_secure_key",
                 "three_d_secure_iv")
        body = {k: form.get(k, "").strip() for k in names if form.get(k, "").strip() or k not in OPTIONAL_CREDENTIALS}
        return await console.call(operator, "checkout", "PUT", "/gateway-credentials", json=body, headers=if_match)
    if part == "mail":
        body = {k: form.get(k, "").strip() for k in ("sender_address", "sender_name", "shop_copy_address")}
        return await console.call(operator, "checkout", "PUT", "/mail", json=body, headers=if_match)
    if part == "carriers":
        return await console.call(operator, "checkout", "PUT", "/carriers", json=_carriers(items), headers=if_match)
    current = await console.call(operator, "checkout", "GET", "/settings")
    if not current.ok:
        return current
    methods = current.body.get("payment_methods") or []
    if not methods:
        added = await console.call(operator, "checkout", "POST", "/payment-methods", json={"method": "escott_card"},
                                   headers=if_match)
        if not added.ok:
            return added
        if_match = {"If-Match": added.headers.get("etag", "")} if if_match else {}
        methods = added.body.get("payment_methods") or [{}]
    return await console.call(operator, "checkout", "PUT", "/payment-methods/escott_card",
                              json=_card(methods[0], form), headers=if_match)


def _card(current: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The current card method with the form's values over it (a full replacement, as the API wants)."""
    body = {k: v for k, v in current.items() if k not in ("method",)}
    for name in CARD_TEXT:
        body[name] = form.get(name, "").strip() or (None if name != "display_name" else "")
    for name in CARD_CHOICES:
        body[name] = form.get(name, "")
    for name in CARD_SWITCHES:
        body[name] = name in form
    body["min_amount"], body["max_amount"] = int_field(form, "min_amount"), int_field(form, "max_amount")
    note = dict(current.get("note") or {})
    note.update(text=form.get("note_text", ""), **{n: f"note_{n}" in form for n in NOTE_SWITCHES})
    note.pop("on_confirmation_page", None)
    body["note"] = note
    accepted = ["0", *(code for code in TDS_OPTIONAL if f"tds_accept_{code}" in form)]
    body["three_d_secure"] = {"enabled": "tds_enabled" in form, "accepted_results": accepted}
    return body


def _carriers(items: list[tuple[str, str]]) -> dict[str, Any]:
    """Rows `carrier_id`/`carrier_name`; a checked `accepts_card` carries the row's carrier id (`__new__` for the
    empty row a new carrier is typed into, always the last)."""
    ids = [v.strip() for k, v in items if k == "carrier_id"]
    names = [v.strip() for k, v in items if k == "carrier_name"]
    accepting = {v for k, v in items if k == "accepts_card"}
    last = len(ids) - 1
    return {"carriers": [{"carrier_id": c, "name": n,
                          "accepts_card": c in accepting or (i == last and "__new__" in accepting)}
                         for i, (c, n) in enumerate(zip(ids, names, strict=False)) if c or n]}
