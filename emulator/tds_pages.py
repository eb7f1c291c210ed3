"""The browser side of 3-D Secure (aiohttp): OTDS010, the challenge page and the auto-submitted return.

Plain HTML, no external assets, so a person or Playwright can complete it offline. The challenge page shows its
one-time code (this is a test gateway) in ``#one-time-code``; the buyer types it into ``#code`` and presses
``#submit`` (or ``#cancel``). Closing the page is abandonment: nothing is returned, as at a real ACS.
"""

from __future__ import annotations

import html

from aiohttp import web

from emulator import tds
from emulator.runtime import Runtime
from emulator.tds_state import TdsSession
from emulator.wire import parse_params

CHALLENGE_PATH = "/online/tds/challenge.do"
_HEAD = ('<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{title}</title>'
         '<meta name="viewport" content="width=device-width, initial-scale=1"></head>')
_STYLE = ('<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}'
          'code{font-size:1.4em}</style>')


def return_page(page: tds.Page) -> str:
    """The auto-submitted POST of the result to the shop's RedirectUrl (works without script: a button)."""
    return (_HEAD.format(title="3-D Secure") + '<body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(page.redirect_url)}">'
            f'<input type="hidden" name="EncryptValue" value="{html.escape(page.encrypt_value)}">'
            '<noscript><button type="submit">ショップに戻る / Return to the shop</button></noscript>'
            '</form></body></html>')


def challenge_page(session: TdsSession) -> str:
    """The issuer's challenge: the amount, the masked card, the one-time code (shown: test gateway)."""
    amount = f"¥{session.amount:,}" if session.amount is not None else "—"
    card = session.pan[:4] + "*" * (len(session.pan) - 8) + session.pan[-4:]
    return (_HEAD.format(title="本人認証 / 3-D Secure") + _STYLE + "<body><h1>本人認証 (3-D Secure)</h1>"
            f'<p>ご利用金額 <span id="amount">{html.escape(amount)}</span> / カード '
            f'<span id="card">{html.escape(card)}</span></p>'
            '<p>テスト用ワンタイムパスワード / one-time code (test gateway): '
            f'<code id="one-time-code">{session.one_time_code}</code></p>'
            f'<form method="post" action="{CHALLENGE_PATH}">'
            f'<input type="hidden" name="session" value="{session.session_id}">'
            '<label>ワンタイムパスワード <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code">'
            '</label> <button id="submit" type="submit">認証する</button> '
            '<button id="cancel" type="submit" name="cancel" value="1">キャンセル</button></form></body></html>')


def error_page(code: str) -> str:
    """A refusal that cannot be returned to the shop (no usable RedirectUrl, duplicate message)."""
    return (_HEAD.format(title="3-D Secure error") + _STYLE + "<body><h1>3-D Secure</h1>"
            f'<p>認証を開始できませんでした。 ResponseCd=<span id="response-cd">{html.escape(code)}</span></p>'
            "</body></html>")


def _render(page: tds.Page) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if page.kind == "return":
        return web.Response(text=return_page(page), content_type="text/html", headers=headers)
    if page.kind == "challenge":
        assert page.session is not None
        return web.Response(text=challenge_page(page.session), content_type="text/html", headers=headers)
    return web.Response(text=error_page(page.code), content_type="text/html", headers=headers)


class TdsRoutes:
    """Handlers bound to one running emulator."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def start(self, request: web.Request) -> web.Response:
        """OTDS010: ``MerchantId`` + ``EncryptValue`` from the shop's auto-submitted form."""
        params = parse_params(request.query_string, await request.read())
        counter = self.runtime.engine.ledger.counters["3Secure"]
        counter.requests += 1
        page = tds.start(self.runtime.engine, merchant_id=params.get("MerchantId", ""),
                         encrypt_value=params.get("EncryptValue", ""))
        return _render(page)

    async def challenge(self, request: web.Request) -> web.Response:
        """The buyer's answer to the challenge."""
        params = parse_params(request.query_string, await request.read())
        page = tds.answer(self.runtime.engine, session_id=params.get("session", ""), code=params.get("code", ""),
                          cancel=bool(params.get("cancel")))
        return _render(page)

    async def sessions(self, request: web.Request) -> web.Response:
        """Admin: every 3-D Secure session (no token, no one-time code), optionally of one ``MerchantId``."""
        merchant = request.query.get("MerchantId")
        found = [s.to_json() for s in self.runtime.engine.ledger.tds.sessions.values()
                 if merchant is None or s.merchant_id == merchant]
        return web.json_response(found)

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_post("/online/tds/OTDS010.do", self.start)
        router.add_get("/online/tds/OTDS010.do", self.start)  # the same fields in a query string
        router.add_post(CHALLENGE_PATH, self.challenge)
        router.add_get("/_emulator/tds", self.sessions)
