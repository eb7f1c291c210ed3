"""Building any service's app for a test: its settings on this test's database and Kafka namespace."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from delivery.roles import Role
from delivery.settings import KafkaSettings

SERVICES = ["checkout", "payment", "subscription", "notification"]


def build(name: str, *, database_url: str, kafka: KafkaSettings, role: Role = Role.ALL) -> FastAPI:
    app_module = importlib.import_module(f"services.{name}.app")
    settings_class = getattr(importlib.import_module(f"services.{name}.settings"), f"{name.capitalize()}Settings")
    return app_module.create_app(settings_class(database_url=database_url, kafka=kafka), role=role)
