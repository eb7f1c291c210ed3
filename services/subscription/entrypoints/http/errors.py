"""One error shape for every HTTP refusal of this service, built here and nowhere else (style rule 13):
`application/problem+json` (RFC 9457) with a stable `reason_code`.

    {"type": "urn:problem:subscription:subscription_canceled", "title": "...", "status": 409,
     "detail": "subscription sub-... is canceled", "reason_code": "subscription_canceled",
     "state": {"status": "canceled", "next_cycle_on": null, "ends_on": null}}

Domain errors map by class (`PROBLEMS`); a 409 carries the subscription's current state. The key guards'
401/404 and request validation (which never echoes the input) get the same shape.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from services.subscription.domain import errors
from services.subscription.entrypoints.http.views import state_view

MEDIA_TYPE = "application/problem+json"

PROBLEMS: dict[type[errors.SubscriptionError], tuple[int, str]] = {
    errors.SubscriptionNotFound: (404, "subscription_not_found"),
    errors.SubscriptionCanceled: (409, "subscription_canceled"),
    errors.SubscriptionEnding: (409, "subscription_ending"),
    errors.SubscriptionPaused: (409, "subscription_paused"),
    errors.InvalidCycle: (422, "invalid_cycle"),
    errors.InvalidNextDate: (422, "invalid_next_date"),
    errors.InvalidLines: (422, "invalid_lines"),
}
_HTTP_CODES = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}


def problem(status: int, reason_code: str, detail: str, **extensions: Any) -> JSONResponse:
    body = {"type": f"urn:problem:subscription:{reason_code}", "title": HTTPStatus(status).phrase,
            "status": status, "detail": detail, "reason_code": reason_code, **extensions}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.SubscriptionError)
        status, code = next((p for cls, p in PROBLEMS.items() if isinstance(exc, cls)), (422, "refused"))
        extra = {"state": state_view(exc.subscription)} if isinstance(exc, errors.StateConflict) else {}
        return problem(status, code, str(exc), **extra)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail))

    async def on_invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        found = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
                 for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in found)  # type: ignore[arg-type]
        return problem(422, "schema_invalid", detail, errors=found)

    app.add_exception_handler(errors.SubscriptionError, on_domain_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
