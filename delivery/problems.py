"""One error shape for every HTTP API of every service (design §11 rule 13, issue 14): RFC 9457 problem details,
`application/problem+json`, built here and nowhere else.

    {"type": "urn:problem:checkout:idempotency_key_reused", "title": "Conflict", "status": 409,
     "detail": "checkout_id 'chk-1' was first used with a different body; differing fields: lines.0.quantity",
     "reason_code": "idempotency_key_reused",
     "errors": [{"loc": ["body", "lines", "0", "quantity"], "msg": "...", "type": "idempotency_key_reused"}]}

- `type` is `urn:problem:<service>:<reason_code>`, `title` the status phrase, `detail` says what happened for the
  developer; `reason_code` is the stable code clients branch on; `errors` lists field errors (never the input:
  a body may hold a card token or a key). A service adds its own members (a payment's `result` and `payment`,
  a subscription's `state`): RFC 9457 extension members.
- Routes raise `Problem`; `service_app` installs the handlers, so FastAPI's own 404/405, request validation
  (422 `schema_invalid`), the key guards' `HTTPException`s, each service's own refusal errors (`refusals`) and
  any unexpected exception (500 `internal_error`, logged, its text never shown) all answer this shape.
- `document_problems` puts the shape into the OpenAPI document: every operation answers `4XX`/`5XX` (and its
  422) with `ProblemDetails` as `application/problem+json`.
- Texts a storefront reads never name gateway operations or codes (R16): those stay in operator views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from delivery.logs import get_logger

MEDIA_TYPE = "application/problem+json"
SCHEMA_INVALID = "schema_invalid"
INTERNAL_ERROR = "internal_error"
REASON_CODES: Mapping[int, str] = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 412: "precondition_failed", 413: "request_too_large",
    415: "unsupported_media_type", 422: SCHEMA_INVALID, 428: "precondition_required", 429: "too_many_requests",
    500: INTERNAL_ERROR, 502: "bad_gateway", 503: "service_unavailable",
}
"""The reason code of a bare HTTP status (FastAPI's own answers, `HTTPException`s without a code of their own)."""

log = get_logger(__name__)
Refusal = Callable[[Exception], "Problem"]


class FieldError(BaseModel):
    """One field's error: where (`loc`, e.g. `["body", "buyer", "name"]`), what (`msg`) and its code (`type`)."""

    loc: list[str | int]
    msg: str
    type: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details with a stable `reason_code` and the field errors; services add members."""

    model_config = ConfigDict(extra="allow", title="ProblemDetails")
    type: str = Field(description="urn:problem:<service>:<reason_code>")
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What happened, for the developer (never the input, never a secret).")
    reason_code: str = Field(description="Stable code to branch on.")
    errors: list[FieldError] = Field(default_factory=list, description="Field errors, if any.")


class Problem(Exception):
    """Raise in a route (or a dependency) to answer a problem; `extensions` become members of the body."""

    def __init__(self, status: int, reason_code: str, detail: str, *, errors: Sequence[Mapping[str, Any]] = (),
                 headers: Mapping[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.reason_code = reason_code
        self.detail = detail
        self.errors = [dict(e) for e in errors]
        self.headers = dict(headers or {})
        self.extensions = extensions


def field_error(loc: Sequence[str | int], msg: str, type_: str) -> dict[str, Any]:
    """One entry of `errors`."""
    return {"loc": [str(part) for part in loc], "msg": msg, "type": type_}


def problem_body(service: str, problem: Problem) -> dict[str, Any]:
    """The JSON body of `problem` answered by `service`."""
    return {"type": f"urn:problem:{service}:{problem.reason_code}", "title": _phrase(problem.status),
            "status": problem.status, "detail": problem.detail, "reason_code": problem.reason_code,
            "errors": problem.errors, **problem.extensions}


def problem_response(service: str, problem: Problem) -> JSONResponse:
    return JSONResponse(problem_body(service, problem), status_code=problem.status, media_type=MEDIA_TYPE,
                        headers=problem.headers or None)


def install_problem_handlers(app: FastAPI, *, service: str,
                             refusals: Mapping[type[Exception], Refusal] | None = None) -> None:
    """Every error of `app` answers a problem: `Problem`, `HTTPException`, request validation, the service's own
    refusal errors (`refusals`: error class -> its problem) and, last, any other exception (500)."""

    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(service, exc)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = REASON_CODES.get(exc.status_code, "http_error")
        return problem_response(service, Problem(exc.status_code, code, str(exc.detail),
                                                 headers=getattr(exc, "headers", None)))

    async def on_invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(service, invalid_request(exc))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("http.internal_error", service=service, method=request.method, path=request.url.path,
                  error=type(exc).__name__)
        return problem_response(service, Problem(500, INTERNAL_ERROR, "an internal error occurred; it was logged"))

    def on_refusal(convert: Refusal) -> Callable[[Request, Exception], Any]:
        async def handle(_: Request, exc: Exception) -> JSONResponse:
            return problem_response(service, convert(exc))

        return handle

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    for error, convert in (refusals or {}).items():
        app.add_exception_handler(error, on_refusal(convert))
    app.add_exception_handler(Exception, on_unexpected)


def invalid_request(exc: RequestValidationError) -> Problem:
    """422 `schema_invalid`: each error's location, message and type, never the input (FastAPI's default echoes
    it, and a body may hold a card token, a key or a password)."""
    errors = [field_error(e.get("loc", ()), e.get("msg", ""), e.get("type", "")) for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "the request is invalid"
    return Problem(422, SCHEMA_INVALID, detail, errors=errors)


def document_problems(app: FastAPI) -> None:
    """Generate `app`'s OpenAPI document with the problem shape for every error answer (cached like FastAPI's)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes,
                                   description=app.description)
            app.openapi_schema = with_problems(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with `ProblemDetails` as the answer of every 4xx/5xx response (FastAPI's 422 included; a route's
    own documented content is kept), plus `4XX` and `5XX`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(generated.get("$defs", {}))
    schemas["ProblemDetails"] = {key: value for key, value in generated.items() if key != "$defs"}
    problem = {"content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}}
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status in [s for s in responses if s[:1] in ("4", "5") and s[1:].isdigit()]:
                if "content" in responses[status] and "HTTPValidationError" not in str(responses[status]):
                    continue  # a route's own documented answer (e.g. /health's failing report)
                responses[status] = {"description": responses[status].get("description", _phrase(int(status))),
                                     **problem}
            responses.setdefault("4XX", {"description": "Client error (problem details)", **problem})
            responses.setdefault("5XX", {"description": "Server error (problem details)", **problem})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
