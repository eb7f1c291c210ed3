"""What the storefront's pages share: the API client with the shop's key, sessions (the cart, the buyer, the
checkout in progress, the member who logged in), CSRF and the templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web.common.api import Answer, Api, segment
from web.common.forms import read_form
from web.common.sessions import Session, check_csrf, store_from
from web.common.templating import Pages
from web.storefront.catalogue import CARRIERS, PRODUCTS
from web.storefront.settings import StorefrontSettings

HERE = Path(__file__).parent


class Storefront:
    def __init__(self, settings: StorefrontSettings, api: Api):
        self.settings, self.api = settings, api
        # Lax, not Strict: the buyer comes back from the card company's 3-D Secure page (another site) to our
        # return page, a top-level GET that must carry the session; every form post still needs the CSRF token.
        self.store = store_from(keys=settings.session_keys.get_secret_value(), purpose="storefront",
                                idle_s=settings.session_idle_s, secure_cookie=settings.secure_cookie,
                                same_site="lax")
        self.pages = Pages(HERE / "templates")
        parts = urlsplit(settings.token_script_base)
        self.gateway_origin = f"{parts.scheme}://{parts.netloc}"

    @property
    def key(self) -> str:
        return self.settings.key.get_secret_value()

    @property
    def shop_path(self) -> str:
        return f"/v1/shops/{segment(self.settings.shop_id)}"

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> Answer:
        return await self.api.call(service, method, path, key=self.key, **kwargs)

    def public_url(self, request: Request, path: str) -> str:
        """An absolute URL of this storefront as the buyer's browser reaches it (3-D Secure's return page)."""
        base = self.settings.public_url or str(request.base_url)
        return base.rstrip("/") + path

    async def posted(self, request: Request) -> tuple[Session, dict[str, str]]:
        session = self.store.load(request)
        form = await read_form(request)
        check_csrf(session, form)
        assert session is not None
        return session, form

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page; a new session's cookie goes with it."""
        session = self.store.ensure(request)
        return self.pages.render(request, name, status, csrf=session.csrf, member_id=session.data.get("member_id"),
                                 cart_count=sum(session.data.get("cart", {}).values()), **context)

    @staticmethod
    def back(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


def cart_lines(cart: dict[str, int]) -> list[dict[str, Any]]:
    """The session's cart (sku -> quantity) as checkout lines."""
    return [{"sku": sku, "name": PRODUCTS[sku].name, "unit_price": PRODUCTS[sku].price, "quantity": qty}
            for sku, qty in cart.items() if sku in PRODUCTS and qty > 0]


def has_subscription(cart: dict[str, int]) -> bool:
    return any(PRODUCTS[sku].subscription for sku in cart if sku in PRODUCTS)


def cart_total(cart: dict[str, int], carrier_id: str | None) -> int:
    lines = sum(line["unit_price"] * line["quantity"] for line in cart_lines(cart))
    return lines + (CARRIERS[carrier_id].fee if carrier_id in CARRIERS else 0)
