"""The front ends' own small parts: sessions and CSRF, following an `action_required` answer, the chart, the
forms turned into API bodies, and escaping."""

from __future__ import annotations

import pytest
from fastapi import HTTPException, Response
from starlette.requests import Request

from web.common.sessions import COOKIE, SessionStore, check_csrf
from web.common.templating import Pages
from web.common.throttle import FailureThrottle
from web.console.chart import bar_chart
from web.console.context import HERE
from web.console.orders import _edit_body
from web.console.shop_settings import _card, _carriers
from web.storefront.checkout_flow import pending_action


def request_with(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def test_a_session_is_found_by_its_cookie_only_and_a_login_gets_a_new_id():
    store = SessionStore()
    first = store.start(Response())
    assert store.load(request_with(first.session_id)) is first
    assert store.load(request_with("forged")) is None and store.load(request_with(None)) is None
    second = store.start(Response())
    assert (second.session_id, second.csrf) != (first.session_id, first.csrf)


def test_an_idle_session_expires():
    store = SessionStore(idle_s=0.0)
    session = store.start(Response())
    session.touched -= 1
    assert store.load(request_with(session.session_id)) is None


def test_csrf_needs_the_sessions_own_token():
    session = SessionStore().start(Response())
    check_csrf(session, {"csrf": session.csrf})
    for form in ({}, {"csrf": ""}, {"csrf": session.csrf + "x"}):
        with pytest.raises(HTTPException) as refused:
            check_csrf(session, form)
        assert refused.value.status_code == 403
    with pytest.raises(HTTPException):
        check_csrf(None, {"csrf": session.csrf})


def test_an_action_required_outcome_is_followed_with_its_form_wherever_it_names_it():
    nested = {"status": "action_required", "action": {"url": "https://acs.example/OTDS010.do",
                                                      "form_fields": {"MerchantId": "1", "EncryptValue": "x=="}}}
    assert pending_action(nested) == {"url": "https://acs.example/OTDS010.do", "method": "post",
                                      "fields": {"MerchantId": "1", "EncryptValue": "x=="}}
    flat = {"status": "action_required", "url": "http://127.0.0.1:8899/online/tds/OTDS010.do", "method": "GET",
            "fields": {"a": 1}}
    assert pending_action(flat) == {"url": flat["url"], "method": "get", "fields": {"a": "1"}}
    assert pending_action({"status": "completed", "url": "https://x.example"}) is None
    assert pending_action({"status": "action_required", "url": "javascript:alert(1)"}) is None


def test_the_chart_scales_bars_to_the_largest_value():
    chart = bar_chart([("受付完了", 8, "completed"), ("決済不可", 2, "rejected"), ("要確認", 0, "needs_review")])
    widths = [bar.width for bar in chart.bars]
    assert widths[0] > widths[1] > widths[2] == 0 and abs(widths[0] - 4 * widths[1]) <= 2
    assert bar_chart([])


def test_the_edit_form_becomes_an_order_edit_and_a_zero_quantity_drops_the_line():
    items = [("csrf", "t"), ("sku", "A"), ("name", "煎茶"), ("unit_price", "3,300"), ("quantity", "2"),
             ("sku", "B"), ("name", "ほうじ茶"), ("unit_price", "1800"), ("quantity", "0"), ("shipping_fee", "500"),
             ("fee_name", "代引手数料"), ("fee_amount", "330")]
    operator = type("Op", (), {"shop_id": "s"})()
    body = _edit_body(items, operator)  # type: ignore[arg-type]
    assert body["lines"] == [{"sku": "A", "name": "煎茶", "unit_price": 3300, "quantity": 2}]
    assert (body["shipping_fee"], body["fees"]) == (500, [{"name": "代引手数料", "amount": 330}])


def test_settings_forms_become_full_bodies():
    carriers = _carriers([("carrier_id", "yamato"), ("carrier_name", "ヤマト"), ("accepts_card", "yamato"),
                          ("carrier_id", "cod"), ("carrier_name", "代引"), ("carrier_id", ""), ("carrier_name", "")])
    assert carriers == {"carriers": [{"carrier_id": "yamato", "name": "ヤマト", "accepts_card": True},
                                     {"carrier_id": "cod", "name": "代引", "accepts_card": False}]}
    current = {"method": "escott_card", "display_name": "旧", "configured": True, "note": {
        "text": "", "on_payment_page": False, "in_thanks_mail": False, "on_confirmation_page": True}}
    card = _card(current, {"display_name": "カード", "sales_mode": "auth", "card_link_mode": "always",
                           "renewal_sales_mode": "auth", "show_installments": "on", "note_text": "<b>注意</b>",
                           "note_in_thanks_mail": "on", "min_amount": "", "max_amount": "100000"})
    assert (card["display_name"], card["show_installments"], card["subscriptions_enabled"]) == ("カード", True, False)
    assert (card["min_amount"], card["max_amount"]) == (None, 100000)
    assert card["note"] == {"text": "<b>注意</b>", "on_payment_page": False, "in_thanks_mail": True}
    assert "method" not in card


def test_user_text_is_escaped_in_every_page():
    html = Pages(HERE / "templates").render(None, "error.html", title="<script>x()</script>",  # type: ignore[arg-type]
                                            text="\"'><img src=x onerror=alert(1)>", operator=None, flash=None,
                                            csrf="")
    body = bytes(html.body).decode()
    assert "<script>x()" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body and html.headers["X-Frame-Options"] == "DENY"


def test_failed_logins_are_throttled_per_key_until_the_window_passes():
    throttle = FailureThrottle(limit=3, window_s=60)
    for _ in range(3):
        assert not throttle.blocked("ip|shop")
        throttle.failed("ip|shop")
    assert throttle.blocked("ip|shop") and not throttle.blocked("ip|other-shop")
    throttle._failures["ip|shop"][0] -= 61  # the oldest failure leaves the window
    assert not throttle.blocked("ip|shop")
    throttle.succeeded("ip|shop")
    assert not throttle._failures
