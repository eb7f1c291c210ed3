"""Every form of both front ends is CSRF-protected: each template's POST form carries the session's token, and
every POST route of the console and the storefront refuses a post without it (or with another one) with 403 before
it calls any service; with the token the same post goes through (so the refusal is the token's doing)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from web.common.api import Answer, Api
from web.common.sessions import Session, SessionStore, dev_only_key
from web.common.settings import ServiceUrls
from web.console.app import create_app as console_app
from web.console.settings import ConsoleSettings
from web.storefront.app import create_app as storefront_app
from web.storefront.settings import StorefrontSettings

WEB = Path(__file__).resolve().parents[3] / "web"
CSRF = "the-sessions-own-token"
SESSIONS = {  # what a logged-in operator's / a buyer at the card step's session holds
    "console": {"shop_id": "tea", "shop_name": "お茶", "key": "operator-key-of-the-tea-shop"},
    "storefront": {"cart": {"TEA-001": 1}, "member_id": "m-1", "checkout_id": "c-1",
                   "buyer": {"name": "山田", "name_kana": "", "email": "t@example.jp", "member_id": "m-1",
                             "carrier_id": "yamato", "recipient_name": "", "postal_code": "100-0001",
                             "prefecture": "東京都", "city": "千代田区", "address_line1": "1-1", "address_line2": "",
                             "phone": ""}},
}
FORM_OPENING = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>", re.IGNORECASE)


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    forms = 0
    for template in sorted(WEB.glob("*/templates/*.html")):
        text = template.read_text()
        for opening in FORM_OPENING.finditer(text):
            body = text[opening.end():text.index("</form>", opening.end())]
            assert '<input type="hidden" name="csrf" value="{{ csrf }}">' in body, \
                f"{template.relative_to(WEB)}: {opening.group(0)}"
            forms += 1
    assert forms >= 20  # the console's and the storefront's forms were all found


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """The services' API as a recorder: every call answers 200 with an empty object."""
    calls: list[tuple[str, str, str]] = []

    async def call(self: Api, service: str, method: str, path: str, **_: Any) -> Answer:
        calls.append((service, method, path))
        return Answer(status=200, body={})

    monkeypatch.setattr(Api, "call", call)
    return calls


def _client(purpose: str) -> TestClient:
    app: FastAPI = console_app(ConsoleSettings(), ServiceUrls()) if purpose == "console" \
        else storefront_app(StorefrontSettings(), ServiceUrls())
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)  # past the token is enough
    store = SessionStore(keys=[dev_only_key(purpose)], cookie=f"{purpose}_session")
    client.cookies.set(f"{purpose}_session",
                       store.seal(Session(session_id="s", csrf=CSRF, data=dict(SESSIONS[purpose]))))
    return client


def _post_paths(app: Any) -> list[str]:
    """Every POST route, its path parameters filled in (the schema lists the included routers' routes too)."""
    paths = [path for path, operations in app.openapi()["paths"].items() if "post" in operations]
    return [re.sub(r"\{(\w+)\}", lambda m: {"part": "mail", "action": "cancel"}.get(m.group(1), "x"), path)
            for path in paths]


@pytest.mark.parametrize("purpose", ["console", "storefront"])
def test_every_post_route_refuses_a_post_without_the_sessions_token_and_calls_no_service(purpose, api_calls):
    client = _client(purpose)
    paths = _post_paths(client.app)
    assert len(paths) >= (10 if purpose == "console" else 9), paths  # every route found
    for path in paths:
        for form in ({}, {"csrf": ""}, {"csrf": CSRF + "x"}, {"csrf": "another-sessions-token"}):
            refused = client.post(path, data={**form, "order_id": "o-1", "recipient": "a@example.jp"})
            assert refused.status_code == 403, (path, form, refused.status_code)
        assert api_calls == [], (path, api_calls)
    went_through = [path for path in paths if client.post(path, data={"csrf": CSRF, "order_id": "o-1"})
                    .status_code != 403]
    assert went_through == paths
    assert api_calls  # and the posts that reach a service did call it
