"""受注一覧 (search, paging, bulk capture) and 受注明細 (lines, totals, the payment panel with the live status, the
buttons the payment service allows, amount edit, operation history, failed operation, mails with resend).

Which buttons show is the payment service's `allowed_operations`; what an action did is its answer, shown as it
is (raw codes with their descriptions: operators see them, R16). Capture, 取引更新 and bulk capture send the
order total the page showed (`order_total`): payment refuses them (`order_total_stale`) while an edit has not
reached it, so the window between checkout's edit and payment's hearing of it is closed on payment's side."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.common.api import Answer, segment
from web.common.forms import int_field, read_form_items
from web.common.sessions import check_csrf
from web.console.context import Console, NotFound, Operator

STATUSES = {"pending_payment": "決済待ち", "completed": "受付完了", "rejected": "決済不可", "needs_review": "要確認",
            "payment_failed": "決済失敗"}
ACTIONS = {"capture": "売上確定", "cancel": "キャンセル", "update-amount": "取引更新",
           "release-previous-hold": "旧与信の解放"}
SEARCH_FIELDS = ("payment_number", "status", "from", "to", "buyer")
EDIT_SEEN_WAIT_S, EDIT_SEEN_POLL_S = 10.0, 0.25
SEEN_TOTAL_ACTIONS = ("capture", "update-amount")
"""Actions that send the order total the operator saw (payment refuses them while it knows another: R12)."""


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/orders", response_class=HTMLResponse)
    async def order_list(request: Request, page: int = 1) -> Response:
        operator = console.operator(request)
        query = {k: request.query_params.get(k, "").strip() for k in SEARCH_FIELDS}
        page = max(page, 1)
        answer = await console.call(operator, "checkout", "GET", "/orders", params={
            **query, "limit": console.page_size + 1, "offset": (page - 1) * console.page_size})
        found = answer.body.get("orders", []) if answer.ok else []
        return console.render(request, operator, "orders.html", query=query, statuses=STATUSES,
                              orders=found[:console.page_size], page=page, more=len(found) > console.page_size,
                              error=None if answer.ok else answer.message)

    @api.post("/orders/bulk-capture", response_class=HTMLResponse)
    async def bulk_capture(request: Request) -> Response:
        operator = console.operator(request)
        items = await read_form_items(request)
        form = dict(items)
        check_csrf(operator.session, form)
        order_ids = list(dict.fromkeys(v for k, v in items if k == "order_id" and v))
        if not order_ids:
            console.flash(operator, kind="error", text="売上確定する受注を選んでください。")
            return console.back("/orders")
        answer = await console.call(operator, "payment", "POST", "/payments/bulk-capture", json={
            "orders": [{"order_id": o, **_seen_total(form, f"order_total:{o}")} for o in order_ids],
            "requested_by": f"console:{operator.shop_id}"})
        return console.render(request, operator, "bulk_result.html", answer=answer,
                              results=answer.body.get("results", []) if answer.ok else [])

    @api.get("/orders/{order_id}", response_class=HTMLResponse)
    async def order_detail(request: Request, order_id: str, edit: bool = False) -> Response:
        operator = console.operator(request)
        order = await console.found(operator, "checkout", f"/orders/{segment(order_id)}")
        if not order.ok:
            return console.render(request, operator, "error.html", status=order.status, title="受注を表示できません",
                                  text=order.message)
        payment, mails = await _payment_and_mails(console, operator, order.body)
        return console.render(request, operator, "order.html", order=order.body, payment=payment, mails=mails,
                              edit=edit and _editable(order.body, payment), statuses=STATUSES, actions=ACTIONS,
                              nonce=uuid.uuid4().hex)

    @api.post("/orders/{order_id}/payment/{action}")
    async def payment_action(request: Request, order_id: str, action: str) -> Response:
        operator, form = await console.posted(request)
        if action not in ACTIONS:
            raise NotFound
        body: dict[str, Any] = {"requested_by": f"console:{operator.shop_id}"}
        if action in SEEN_TOTAL_ACTIONS:
            body.update(_seen_total(form, "order_total"))
        answer = await console.call(operator, "payment", "POST", f"/payments/{segment(order_id)}/{action}",
                                    json=body)
        if answer.status == 404:
            raise NotFound
        _flash_result(console, operator, ACTIONS[action], answer)
        return console.back(f"/orders/{segment(order_id)}")

    @api.post("/orders/{order_id}/edit")
    async def edit_order(request: Request, order_id: str) -> Response:
        items = await read_form_items(request)
        operator = console.operator(request)
        form = dict(items)
        check_csrf(operator.session, form)
        answer = await console.call(operator, "checkout", "PATCH", f"/orders/{segment(order_id)}",
                                    json=_edit_body(items, operator))
        if answer.status == 404:
            raise NotFound
        if answer.ok:
            seen = await _payment_sees_total(console, operator, order_id, answer.body.get("amount"))
            console.flash(operator, kind="warn",
                          text="金額を変更しました。売上確定の前に「取引更新」を実行してください。" if seen else
                          "金額を変更しました。決済への反映を待っています。しばらくしてから再読み込みしてください。")
            return console.back(f"/orders/{segment(order_id)}")
        console.flash(operator, kind="error", text="受注を変更できませんでした。", detail=answer.message)
        return console.back(f"/orders/{segment(order_id)}?edit=1")

    @api.post("/orders/{order_id}/mails/{mail_id}/resend")
    async def resend(request: Request, order_id: str, mail_id: str) -> Response:
        operator, form = await console.posted(request)
        answer = await console.call(operator, "notification", "POST", f"/mails/{segment(mail_id)}/resend",
                                    json={"recipient": form["recipient"]} if form.get("recipient") else {},
                                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex})
        if answer.status == 404:
            raise NotFound
        if answer.ok:
            console.flash(operator, kind="ok", text=f"メールを再送しました（宛先: {answer.body.get('recipient')}）。")
        else:
            console.flash(operator, kind="error", text="メールを再送できませんでした。", detail=answer.message)
        return console.back(f"/orders/{segment(order_id)}#mails")

    return api


async def _payment_and_mails(console: Console, operator: Operator, order: dict[str, Any]) -> tuple[Answer, Answer]:
    order_id = segment(order["order_id"])
    payment = await console.call(operator, "payment", "GET", f"/payments/{order_id}")
    mails = await console.call(operator, "notification", "GET", f"/orders/{order_id}/mails")
    return payment, mails


async def _payment_sees_total(console: Console, operator: Operator, order_id: str, total: Any) -> bool:
    """Wait (bounded) until the payment service has heard of an edit (checkout tells it by an event, R12): the
    page after the edit then shows what payment allows for the new total, not the old one."""
    deadline = time.monotonic() + EDIT_SEEN_WAIT_S
    while True:
        payment = await console.call(operator, "payment", "GET", f"/payments/{segment(order_id)}",
                                     params={"live": "false"})
        if not payment.ok or payment.body.get("order_total") == total:
            return payment.ok
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(EDIT_SEEN_POLL_S)


def _seen_total(form: dict[str, str], field: str) -> dict[str, int]:
    """`{"order_total": …}` from the page's hidden field (the checkout total the operator saw), or nothing (payment
    then does not check). With it, payment refuses the action with `order_total_stale` while its own total differs
    (an edit that has not reached it yet)."""
    total = int_field(form, field)
    return {} if total is None else {"order_total": total}


def _editable(order: dict[str, Any], payment: Answer) -> bool:
    return (payment.ok and "update_amount" in payment.body.get("allowed_operations", [])) \
        or "update_amount" in order.get("payment", {}).get("actions", [])


def _edit_body(items: list[tuple[str, str]], operator: Operator) -> dict[str, Any]:
    """Lines (sku, name, unit price, quantity; a quantity of 0 leaves the line out), shipping fee and fees."""
    fields: dict[str, list[str]] = {}
    for name, value in items:
        fields.setdefault(name, []).append(value)
    lines = []
    for sku, name, price, qty in zip(fields.get("sku", []), fields.get("name", []), fields.get("unit_price", []),
                                     fields.get("quantity", []), strict=False):
        quantity = int_field({"q": qty}, "q")
        if quantity == 0:
            continue
        lines.append({"sku": sku, "name": name, "unit_price": int_field({"p": price}, "p"), "quantity": quantity})
    fees = [{"name": n, "amount": int_field({"a": a}, "a")}
            for n, a in zip(fields.get("fee_name", []), fields.get("fee_amount", []), strict=False) if n]
    form = dict(items)
    return {"lines": lines, "shipping_fee": int_field(form, "shipping_fee"), "fees": fees,
            "edited_by": f"console:{operator.shop_id}"}


def _flash_result(console: Console, operator: Operator, label: str, answer: Answer) -> None:
    if answer.ok:
        console.flash(operator, kind="ok", text=f"{label}しました。")
        return
    if answer.reason_code == "order_total_stale":
        console.flash(operator, kind="warn", text=f"{label}できませんでした。受注金額の変更が決済にまだ反映されて"
                      "いません。しばらくしてから再読み込みしてやり直してください。", detail=answer.message)
        return
    body = answer.body if isinstance(answer.body, dict) else {}
    codes = [f"{c}: {d}" for c, d in zip(body.get("codes", []), body.get("descriptions", []), strict=False)]
    detail = "\n".join([answer.message, *codes])
    console.flash(operator, kind="error", text=f"{label}できませんでした（{answer.reason_code or answer.status}）。",
                  detail=detail)
