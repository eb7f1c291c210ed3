"""Each service builds without connecting, then starts on real PostgreSQL + Kafka and reports healthy."""

from __future__ import annotations

import importlib

import asyncpg
import httpx
import pytest

from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SERVICES = ["checkout", "payment", "subscription", "notification"]


def build(name: str, database_url: str, kafka_settings):
    app_module = importlib.import_module(f"services.{name}.app")
    settings_module = importlib.import_module(f"services.{name}.settings")
    settings_class = getattr(settings_module, f"{name.capitalize()}Settings")
    settings = settings_class(database_url=database_url, kafka=kafka_settings)
    return app_module.create_app(settings)


@pytest.mark.parametrize("name", SERVICES)
async def test_a_service_starts_migrates_its_database_and_reports_healthy(name, database_url, isolated_kafka):
    app = build(name, database_url, isolated_kafka)  # nothing connects here: no server was touched yet
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            response = await eventually(lambda: healthy(client), timeout=60, message=f"{name} healthy")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert {"postgres", "kafka", "outbox_relay", "consumers"} <= set(checks)
    assert all(checks.values()), checks
    conn = await asyncpg.connect(database_url)
    try:
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
    finally:
        await conn.close()
    assert {"outbox", "inbox", "schema_migrations"} <= tables


async def healthy(client: httpx.AsyncClient) -> httpx.Response | None:
    """The health report once it answers 200 (the consumer joins its group after the API serves)."""
    response = await client.get("/health")
    return response if response.status_code == 200 else None


async def test_health_reports_failing_when_the_database_is_unreachable(kafka_settings):
    app = build("payment", "postgresql://payments:payments@127.0.0.1:1/none", kafka_settings)
    transport = httpx.ASGITransport(app=app)  # the lifespan never runs: no pool, no producer
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get("/health")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "failing"
    assert report["checks"]["postgres"] is False
