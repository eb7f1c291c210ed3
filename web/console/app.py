"""The console's composition: routes, the login (shop id + operator key, checked against checkout's settings
API), logout, static files, errors and /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from web.common.api import Api, segment
from web.common.forms import read_form
from web.common.sessions import check_csrf, install, store_from
from web.common.settings import ServiceUrls
from web.common.throttle import FailureThrottle
from web.console import dashboard, orders, review, shop_settings, subscriptions
from web.console.context import HERE, Console, LoginRequired, NotFound
from web.console.settings import ConsoleSettings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def create_app(settings: ConsoleSettings, urls: ServiceUrls) -> FastAPI:
    api = Api(urls.as_dict(), key_header="X-Operator-Key")
    store = store_from(keys=settings.session_keys.get_secret_value(), purpose="console",
                       idle_s=settings.session_idle_s, secure_cookie=settings.secure_cookie)
    console = Console(api, store, page_size=settings.page_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await api.aclose()

    app = FastAPI(title="管理画面", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _login_routes(app, console, FailureThrottle())
    for module in (dashboard, orders, review, subscriptions, shop_settings):
        app.include_router(module.router(console))
    _error_handlers(app, console)

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    install(app, store)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _login_routes(app: FastAPI, console: Console, throttle: FailureThrottle) -> None:
    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> Response:
        session = console.store.ensure(request)
        return console.render(request, None, "login.html", csrf=session.csrf, error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        check_csrf(console.store.load(request), form)
        shop_id, key = form.get("shop_id", "").strip(), form.get("operator_key", "")
        attempt = f"{request.client.host if request.client else '-'}|{shop_id}"
        session = console.store.load(request)
        if throttle.blocked(attempt):
            return console.render(request, None, "login.html", status=429, csrf=session.csrf if session else "",
                                  error="ログインの失敗が続いたため、しばらくしてからお試しください。")
        answer = await console.api.call("checkout", "GET", f"/v1/shops/{segment(shop_id)}/settings", key=key) \
            if shop_id and key else None
        if answer is None or not answer.ok:
            throttle.failed(attempt)
            return console.render(request, None, "login.html", status=401, csrf=session.csrf if session else "",
                                  error="ショップIDまたはオペレーターキーが正しくありません。")
        throttle.succeeded(attempt)
        session = console.store.start(request)  # a new id and CSRF token at login: no session fixation
        session.data.update(shop_id=shop_id, key=key, shop_name=answer.body.get("shop_name", shop_id))
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        console.operator(request)
        check_csrf(console.store.load(request), await read_form(request))
        console.store.end(request)
        return RedirectResponse("/login", status_code=303)


def _error_handlers(app: FastAPI, console: Console) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _: LoginRequired) -> Response:
        if request.method != "GET":
            return JSONResponse({"detail": "login required"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, _: NotFound) -> Response:
        return console.render(request, _maybe_operator(console, request), "error.html", status=404,
                              title="見つかりません", text="このショップにはありません。")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return console.render(request, _maybe_operator(console, request), "error.html", status=exc.status_code,
                              title=f"エラー {exc.status_code}", text=str(exc.detail))


def _maybe_operator(console: Console, request: Request):  # type: ignore[no-untyped-def]
    try:
        return console.operator(request)
    except LoginRequired:
        return None
