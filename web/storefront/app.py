"""The storefront's composition: product page, cart (step 1), the checkout steps (`checkout_flow`), the
my-page (`mypage`), static files, errors and /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from web.common.api import Api
from web.common.forms import int_field
from web.common.sessions import install
from web.common.settings import ServiceUrls
from web.storefront import checkout_flow, mypage
from web.storefront.catalogue import CARRIERS, PRODUCTS
from web.storefront.settings import StorefrontSettings
from web.storefront.shop import HERE, Storefront, cart_lines, cart_total

MAX_QUANTITY = 99


def create_app(settings: StorefrontSettings, urls: ServiceUrls) -> FastAPI:
    api = Api(urls.as_dict(), key_header="X-Storefront-Key")
    shop = Storefront(settings, api)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await api.aclose()

    app = FastAPI(title="デモショップ", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    csp = (f"default-src 'self'; script-src 'self' {shop.gateway_origin}; connect-src 'self' {shop.gateway_origin}; "
           "style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        return response

    install(app, shop.store)

    _cart_routes(app, shop)
    app.include_router(checkout_flow.router(shop))
    app.include_router(mypage.router(shop))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return shop.render(request, "error.html", status=exc.status_code, text=str(exc.detail))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _cart_routes(app: FastAPI, shop: Storefront) -> None:
    @app.get("/", response_class=HTMLResponse)
    async def products(request: Request) -> Response:
        return shop.render(request, "products.html", products=PRODUCTS.values())

    @app.post("/cart/add")
    async def add(request: Request) -> Response:
        session, form = await shop.posted(request)
        sku, quantity = form.get("sku", ""), int_field(form, "quantity") or 1
        if sku not in PRODUCTS:
            raise HTTPException(404, "その商品はありません。")
        cart = session.data.setdefault("cart", {})
        cart[sku] = min(cart.get(sku, 0) + max(quantity, 1), MAX_QUANTITY)
        return shop.back("/cart")

    @app.post("/cart/update")
    async def update(request: Request) -> Response:
        session, form = await shop.posted(request)
        cart = session.data.setdefault("cart", {})
        for sku in list(cart):
            quantity = int_field(form, f"qty_{sku}")
            if quantity is not None:
                cart[sku] = min(max(quantity, 0), MAX_QUANTITY)
        session.data["cart"] = {sku: q for sku, q in cart.items() if q > 0}
        return shop.back("/cart")

    @app.get("/cart", response_class=HTMLResponse)
    async def cart(request: Request) -> Response:
        session = shop.store.load(request)
        items = session.data.get("cart", {}) if session else {}
        return shop.render(request, "cart.html", lines=cart_lines(items), subtotal=cart_total(items, None),
                           carriers=CARRIERS)
