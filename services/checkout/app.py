"""The checkout service's composition root: `create_app(settings)` builds everything; nothing connects on import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from delivery.http import service_app
from services.checkout.settings import CheckoutSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: CheckoutSettings | None = None) -> FastAPI:
    settings = settings or CheckoutSettings()
    return service_app(name="checkout", settings=settings, migrations=MIGRATIONS)
