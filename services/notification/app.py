"""The notification service's composition root: `create_app(settings)` builds everything; nothing connects on import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from delivery.http import service_app
from services.notification.settings import NotificationSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    return service_app(name="notification", settings=settings, migrations=MIGRATIONS)
