"""The subscription service's composition root: `create_app(settings)` builds everything; nothing connects on import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from delivery.http import service_app, service_runtime
from services.subscription.settings import SubscriptionSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: SubscriptionSettings | None = None) -> FastAPI:
    settings = settings or SubscriptionSettings()
    runtime = service_runtime(name="subscription", settings=settings, migrations=MIGRATIONS)
    return service_app(runtime, settings=settings)
