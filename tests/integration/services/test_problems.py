"""One error shape across the services (issue 14): each service, started on real PostgreSQL and Kafka, answers its
404, 409, 422, 401 and 500 as RFC 9457 problem details (`application/problem+json`) with a `reason_code`, and its
OpenAPI document says so for every operation. (412 is checkout's settings: `tests/integration/checkout`; the 409s
that need a payment or a subscription in a given state: `tests/integration/operations`, `.../subscription`.)"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
PROBLEM = "application/problem+json"
OPERATOR_KEY = "operator-key-for-problem-tests-0123456789"
ADMIN_TOKEN = "admin-token-for-problem-tests-0123456789"
CLOSED = "http://127.0.0.1:9"  # checkout's pushes to the other services fail fast: keys stay "pending"
OPERATOR = {"X-Operator-Key": OPERATOR_KEY}


def settings_for(name: str, database_url: str, kafka: Any) -> Any:
    module = importlib.import_module(f"services.{name}.settings")
    extra: dict[str, Any] = {}
    if name == "checkout":
        extra = {"admin_token": ADMIN_TOKEN, "payment_url": CLOSED, "notification_url": CLOSED,
                 "subscription_url": CLOSED}
    return getattr(module, f"{name.capitalize()}Settings")(database_url=database_url, kafka=kafka, db_pool_size=4,
                                                           **extra)


@asynccontextmanager
async def running(name: str, database_url: str, kafka: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(name, database_url, kafka)
    app = importlib.import_module(f"services.{name}.app").create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer here
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            if name == "checkout":
                await _create_shop(client, OPERATOR_KEY)
            else:
                internal = {"X-Internal-Token": settings.internal_token.get_secret_value()}
                digest = hashlib.sha256(OPERATOR_KEY.encode()).hexdigest()
                response = await client.put("/internal/v1/shops/shop-1/operator-key", json={"sha256": digest},
                                            headers=internal)
                assert response.status_code == 204, response.text
            yield client


async def _create_shop(client: httpx.AsyncClient, operator_key: str) -> httpx.Response:
    body = {"shop_id": "shop-1", "shop_name": "本店", "operator_key": operator_key,
            "storefront_key": "storefront-key-for-problem-tests-0123456789",
            "mail": {"sender_address": "info@shop.example.jp", "shop_copy_address": "orders@shop.example.jp"}}
    return await client.post("/admin/v1/shops", json=body, headers={"X-Admin-Token": ADMIN_TOKEN})


def problem(response: httpx.Response, status: int, reason_code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers
    body = response.json()
    assert (body["status"], body["reason_code"]) == (status, reason_code), body
    assert body["type"].startswith("urn:problem:") and body["type"].endswith(f":{reason_code}")
    assert body["title"] and body["detail"] and isinstance(body["errors"], list)
    return body


CASES: dict[str, dict[str, Any]] = {
    "checkout": {
        "not_found": ("GET", "/v1/shops/shop-1/orders/ord-none", None, "order_not_found"),
        "invalid": ("PUT", "/v1/shops/shop-1/carriers", {"carriers": [{"carrier_id": "x"}]},
                    ["body", "carriers", "0", "name"]),
        "unauthorized": ("GET", "/v1/shops/shop-1/settings"),
        "broken": ("services.checkout.handlers.orders", "get_order", ("GET", "/v1/shops/shop-1/orders/ord-1")),
    },
    "payment": {
        "not_found": ("GET", "/v1/shops/shop-1/payments/ord-none", None, "payment_not_found"),
        "invalid": ("POST", "/v1/shops/shop-1/payments/ord-1/resolve", {"outcome": "maybe"}, ["body", "outcome"]),
        "unauthorized": ("GET", "/v1/shops/shop-1/payments/ord-1"),
        "broken": ("services.payment.entrypoints.http.payments", "view_payment",
                   ("GET", "/v1/shops/shop-1/payments/ord-1")),
    },
    "subscription": {
        "not_found": ("GET", "/v1/shops/shop-1/subscriptions/sub-none", None, "subscription_not_found"),
        "invalid": ("POST", "/v1/shops/shop-1/subscriptions/sub-1/cancel", {"when": "someday"}, ["body", "when"]),
        "unauthorized": ("GET", "/v1/shops/shop-1/subscriptions"),
        "broken": ("services.subscription.handlers.queries", "search_subscriptions",
                   ("GET", "/v1/shops/shop-1/subscriptions")),
    },
    "notification": {
        "not_found": ("GET", "/v1/shops/shop-1/mails/00000000-0000-0000-0000-000000000000", None, "mail_not_found"),
        "invalid": ("POST", "/v1/shops/shop-1/mails/00000000-0000-0000-0000-000000000000/resend", {"recipient": 5},
                    ["body", "recipient"]),
        "unauthorized": ("GET", "/v1/shops/shop-1/mails"),
        "broken": ("services.notification.handlers.operator", "list_mails", ("GET", "/v1/shops/shop-1/mails")),
    },
}


@pytest.mark.parametrize("name", list(CASES))
async def test_every_error_a_service_answers_is_problem_details_with_a_reason_code(
        name: str, database_url: str, isolated_kafka: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    async with running(name, database_url, isolated_kafka) as client:
        method, path, body, code = case["not_found"]
        problem(await client.request(method, path, json=body, headers=OPERATOR), 404, code)
        problem(await client.get("/no/such/route", headers=OPERATOR), 404, "not_found")
        method, path, body, loc = case["invalid"]
        invalid = problem(await client.request(method, path, json=body, headers=OPERATOR), 422, "schema_invalid")
        assert loc in [e["loc"] for e in invalid["errors"]], invalid
        method, path = case["unauthorized"]
        problem(await client.request(method, path), 401, "unauthorized")
        module, function, (method, path) = case["broken"]

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug with a secret: password=hunter2")

        monkeypatch.setattr(importlib.import_module(module), function, broken)
        failed = await client.request(method, path, headers=OPERATOR)
        problem(failed, 500, "internal_error")
        assert "hunter2" not in failed.text


async def test_checkout_answers_a_conflicting_shop_creation_with_a_409_problem(database_url, isolated_kafka) -> None:
    async with running("checkout", database_url, isolated_kafka) as client:
        problem(await _create_shop(client, "another-operator-key-0123456789"), 409, "shop_exists")


@pytest.mark.parametrize("name", list(CASES))
async def test_the_openapi_document_answers_every_error_of_every_operation_with_problem_details(
        name: str, database_url: str, isolated_kafka: Any) -> None:
    async with running(name, database_url, isolated_kafka) as client:
        document = (await client.get("/openapi.json")).json()
    assert "ProblemDetails" in document["components"]["schemas"]
    problem_ref = {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            assert {"4XX", "5XX"} <= set(errors), (method, path)
            own = {"503"} if path == "/health" else set()  # the failing readiness report, documented as such
            assert all(r["content"] == problem_ref for code, r in errors.items() if code not in own), (method, path)
