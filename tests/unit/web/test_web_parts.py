"""The front ends' own small parts: sealed cookie sessions and CSRF, following an `action_required` answer, the
chart, the forms turned into API bodies, and escaping."""

from __future__ import annotations

import base64
import json
import secrets
import time
import zlib
from http.cookies import SimpleCookie

import pytest
from cryptography.fernet import Fernet
from fastapi import HTTPException, Response
from starlette.requests import Request

from web.common.api import Answer
from web.common.sessions import Session, SessionStore, check_csrf, dev_only_key
from web.common.templating import Pages
from web.common.throttle import FailureThrottle
from web.console import orders
from web.console.chart import bar_chart
from web.console.context import HERE
from web.console.orders import _edit_body
from web.console.shop_settings import _card, _carriers
from web.storefront.checkout_flow import pending_action

KEY, OTHER_KEY = dev_only_key("console"), Fernet.generate_key().decode()


def request_with(cookie: str | None, name: str = "console_session") -> Request:
    headers = [(b"cookie", f"{name}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def sealed(store: SessionStore, session: Session) -> str:
    """The cookie value the store writes for `session`."""
    request, response = request_with(None), Response()
    request.state.session = session
    store.write(request, response)
    [cookie] = SimpleCookie(response.headers["set-cookie"]).values()
    return cookie.value


def test_a_session_lives_in_its_sealed_cookie_and_a_restarted_process_with_the_key_opens_it():
    store = SessionStore(keys=[KEY], cookie="console_session")
    session = store.start(request_with(None))
    session.data.update(shop_id="tea", key="operator-key-of-the-tea-shop")
    value = sealed(store, session)
    assert "operator-key" not in value and b"operator-key" not in base64.urlsafe_b64decode(value + "==")
    restarted = SessionStore(keys=[KEY], cookie="console_session")
    opened = restarted.load(request_with(value))
    assert opened == session
    rotated = SessionStore(keys=[OTHER_KEY, KEY], cookie="console_session")  # a new key first, the old still opens
    assert rotated.load(request_with(value)) == session and rotated.seal(session) != value


def test_a_forged_foreign_or_differently_keyed_cookie_is_no_session_and_is_cleared():
    store = SessionStore(keys=[KEY], cookie="console_session")
    value = sealed(store, store.start(request_with(None)))
    tampered = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    for cookie in ("forged", tampered, None):
        assert store.load(request_with(cookie)) is None
    assert SessionStore(keys=[OTHER_KEY], cookie="console_session").load(request_with(value)) is None
    storefront = SessionStore(keys=[KEY], cookie="storefront_session")  # the same key, another front end
    assert storefront.load(request_with(value, "storefront_session")) is None
    request, response = request_with("forged"), Response()
    store.load(request)
    store.write(request, response)
    assert 'console_session=""' in response.headers["set-cookie"]  # deleted


def test_a_login_gets_a_new_id_and_token_and_a_logout_clears_the_cookie():
    store = SessionStore(keys=[KEY], cookie="console_session")
    first = store.start(request_with(None))
    request = request_with(sealed(store, first))
    second = store.start(request)
    assert (second.session_id, second.csrf) != (first.session_id, first.csrf)
    store.end(request)
    response = Response()
    store.write(request, response)
    assert "Max-Age=0" in response.headers["set-cookie"] or 'console_session=""' in response.headers["set-cookie"]


def test_an_idle_session_expires_and_an_oversized_one_is_not_written():
    store = SessionStore(keys=[KEY], cookie="console_session", idle_s=60)
    text = json.dumps({"app": "console_session", "id": "i", "csrf": "c", "data": {}}).encode()
    old = store._fernet.encrypt_at_time(zlib.compress(text), int(time.time()) - 61).decode()
    assert store.load(request_with(old)) is None
    fresh = store._fernet.encrypt_at_time(zlib.compress(text), int(time.time()) - 30).decode()
    assert store.load(request_with(fresh)) is not None
    big = Session(session_id="i", csrf="c", data={"note": secrets.token_hex(4000)})  # incompressible
    request, response = request_with(None), Response()
    request.state.session = big
    store.write(request, response)
    assert "set-cookie" not in response.headers


def test_csrf_needs_the_sessions_own_token():
    session = SessionStore(keys=[KEY], cookie="console_session").start(request_with(None))
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
    card_change = {"result": "action_required", "action": {"type": "redirect_form", "method": "POST",
                                                            "url": "https://acs.example/OTDS010.do",
                                                            "fields": {"MerchantId": "1", "EncryptValue": "y"}}}
    assert pending_action(card_change) == {"url": "https://acs.example/OTDS010.do", "method": "post",
                                           "fields": {"MerchantId": "1", "EncryptValue": "y"}}
    assert pending_action({"status": "completed", "url": "https://x.example"}) is None
    assert pending_action({"result": "done", "action": card_change["action"]}) is None
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
    typed = _carriers([("carrier_id", "yamato"), ("carrier_name", "ヤマト"), ("carrier_id", "sagawa"),
                       ("carrier_name", "佐川"), ("accepts_card", "__new__")])  # the new row's box is checked
    assert [c["accepts_card"] for c in typed["carriers"]] == [False, True]
    current = {"method": "escott_card", "display_name": "旧", "configured": True, "note": {
        "text": "", "on_payment_page": False, "in_thanks_mail": False, "on_confirmation_page": True}}
    card = _card(current, {"display_name": "カード", "sales_mode": "auth", "card_link_mode": "always",
                           "renewal_sales_mode": "auth", "show_installments": "on", "note_text": "<b>注意</b>",
                           "note_in_thanks_mail": "on", "min_amount": "", "max_amount": "100000"})
    assert (card["display_name"], card["show_installments"], card["subscriptions_enabled"]) == ("カード", True, False)
    assert (card["min_amount"], card["max_amount"]) == (None, 100000)
    assert card["note"] == {"text": "<b>注意</b>", "on_payment_page": False, "in_thanks_mail": True}
    assert card["three_d_secure"] == {"enabled": False, "accepted_results": ["0"]}  # the boxes left unticked
    on = _card(current, {"sales_mode": "auth", "tds_enabled": "on", "tds_accept_3": "on"})
    assert on["three_d_secure"] == {"enabled": True, "accepted_results": ["0", "3"]}
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


async def test_after_an_edit_the_console_waits_until_payment_reports_the_new_total(monkeypatch):
    totals, calls = iter([3800, 3800, 7100]), []

    class Recorder:
        async def call(self, operator, service, method, path, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(kwargs.get("params", {}))
            return Answer(status=200, body={"order_total": next(totals)})

    monkeypatch.setattr(orders, "EDIT_SEEN_POLL_S", 0.001)
    console = Recorder()
    assert await orders._payment_sees_total(console, None, "o-1", 7100)  # type: ignore[arg-type]
    assert calls == [{"live": "false"}] * 3  # no gateway status read while waiting
    monkeypatch.setattr(orders, "EDIT_SEEN_WAIT_S", 0.01)
    totals = iter([3800] * 1000)
    assert not await orders._payment_sees_total(console, None, "o-1", 7100)  # type: ignore[arg-type]
