"""One error shape (delivery.problems, issue 14): every error of an app answers RFC 9457 problem details with a
stable reason_code, FastAPI's own answers and unexpected exceptions included, and the OpenAPI document says so."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from delivery.problems import MEDIA_TYPE, Problem, document_problems, install_problem_handlers


class Refused(Exception):
    pass


class Body(BaseModel):
    name: str
    amount: int


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app, service="demo", refusals={Refused: lambda exc: Problem(409, "refused", str(exc))})

    @app.post("/things")
    async def things(body: Body) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "gone":
            raise Problem(404, "thing_not_found", "no thing 'gone'", thing_id=thing_id)
        if thing_id == "guarded":
            raise HTTPException(401, "key required")
        if thing_id == "refused":
            raise Refused("the thing refuses")
        raise RuntimeError("password=hunter2 leaked into an exception")

    document_problems(app)
    return app


async def _call(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


def _problem(response: httpx.Response, status: int, reason_code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    body = response.json()
    assert (body["status"], body["reason_code"], body["type"]) == (status, reason_code,
                                                                   f"urn:problem:demo:{reason_code}")
    assert body["title"] and body["detail"]
    return body


async def test_a_raised_problem_answers_its_status_code_detail_and_extension_members() -> None:
    body = _problem(await _call("GET", "/things/gone"), 404, "thing_not_found")
    assert (body["title"], body["detail"], body["thing_id"], body["errors"]) == (
        "Not Found", "no thing 'gone'", "gone", [])


async def test_fastapi_s_own_404_and_405_and_http_exceptions_are_problems() -> None:
    _problem(await _call("GET", "/nowhere"), 404, "not_found")
    _problem(await _call("DELETE", "/things"), 405, "method_not_allowed")
    _problem(await _call("GET", "/things/guarded"), 401, "unauthorized")


async def test_an_invalid_body_is_a_422_listing_field_errors_without_echoing_the_input() -> None:
    response = await _call("POST", "/things", json={"name": "tok_secret_value", "amount": "many"})
    body = _problem(response, 422, "schema_invalid")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["body", "amount"], "int_parsing")]
    assert "tok_secret_value" not in response.text and "many" not in response.text


async def test_a_service_s_own_refusal_error_is_mapped_to_its_problem() -> None:
    _problem(await _call("GET", "/things/refused"), 409, "refused")


async def test_an_unexpected_exception_is_a_500_problem_that_shows_nothing_of_the_exception() -> None:
    response = await _call("GET", "/things/boom")
    _problem(response, 500, "internal_error")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


async def test_the_openapi_document_answers_every_error_with_problem_details() -> None:
    document = (await _call("GET", "/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "ProblemDetails" in schemas and "HTTPValidationError" not in schemas
    assert set(schemas["ProblemDetails"]["required"]) >= {"type", "title", "status", "detail", "reason_code"}
    for path in document["paths"].values():
        for operation in path.values():
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            assert {"4XX", "5XX"} <= set(errors)
            for response in errors.values():
                assert response["content"] == {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    assert "422" in document["paths"]["/things"]["post"]["responses"]
