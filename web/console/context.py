"""What every console page needs: the services' API client, the sessions, the templates, and the logged-in
operator (`Operator`: their shop and key, kept in the encrypted session cookie; the key never reaches a page, a URL
or a log)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web.common.api import Answer, Api, segment
from web.common.forms import read_form
from web.common.sessions import Session, SessionStore, check_csrf
from web.common.templating import Pages

HERE = Path(__file__).parent
MAX_FLASH_DETAIL = 1500


class LoginRequired(Exception):
    pass


class NotFound(Exception):
    """Another shop's (or no) resource: the console answers 404 and says nothing more (I6)."""


@dataclass(kw_only=True)
class Operator:
    shop_id: str
    shop_name: str
    key: str
    session: Session

    @property
    def shop_path(self) -> str:
        return f"/v1/shops/{segment(self.shop_id)}"


class Console:
    def __init__(self, api: Api, store: SessionStore, *, page_size: int):
        self.api, self.store, self.page_size = api, store, page_size
        self.pages = Pages(HERE / "templates")

    def operator(self, request: Request) -> Operator:
        session = self.store.load(request)
        if session is None or "key" not in session.data:
            raise LoginRequired
        return Operator(shop_id=session.data["shop_id"], shop_name=session.data["shop_name"],
                        key=session.data["key"], session=session)

    async def posted(self, request: Request) -> tuple[Operator, dict[str, str]]:
        """The operator and the form of a POST whose CSRF token matches their session."""
        operator = self.operator(request)
        form = await read_form(request)
        check_csrf(operator.session, form)
        return operator, form

    async def call(self, operator: Operator, service: str, method: str, path: str, **kwargs: Any) -> Answer:
        """`path` below the shop (`/orders/...`)."""
        return await self.api.call(service, method, operator.shop_path + path, key=operator.key, **kwargs)

    async def found(self, operator: Operator, service: str, path: str, **kwargs: Any) -> Any:
        """A GET that must find its resource in this shop: 404 for anything else the API says 404 to."""
        answer = await self.call(operator, service, "GET", path, **kwargs)
        if answer.status == 404:
            raise NotFound
        return answer

    def render(self, request: Request, operator: Operator | None, name: str, status: int = 200,
               **context: Any) -> HTMLResponse:
        flash = operator.session.data.pop("flash", None) if operator else None
        return self.pages.render(request, name, status, operator=operator, flash=flash,
                                 csrf=operator.session.csrf if operator else context.pop("csrf", ""), **context)

    @staticmethod
    def flash(operator: Operator, *, kind: str, text: str, detail: Any = None) -> None:
        """A message for the next page (post/redirect/get): `kind` ok | error | warn."""
        if isinstance(detail, str) and len(detail) > MAX_FLASH_DETAIL:  # it travels in the session cookie
            detail = detail[:MAX_FLASH_DETAIL] + "…"
        operator.session.data["flash"] = {"kind": kind, "text": text, "detail": detail}

    @staticmethod
    def back(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)
