"""The subscription service's composition root: `create_app(settings)` builds everything; nothing connects on import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from delivery.http import service_app
from services.subscription.settings import SubscriptionSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: SubscriptionSettings | None = None) -> FastAPI:
    settings = settings or SubscriptionSettings()
    return service_app(name="subscription", settings=settings, migrations=MIGRATIONS)
