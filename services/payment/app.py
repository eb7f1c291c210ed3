"""The payment service's composition root: `create_app(settings)` builds everything; nothing connects on import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from delivery.http import service_app
from services.payment.settings import PaymentSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    return service_app(name="payment", settings=settings, migrations=MIGRATIONS)
