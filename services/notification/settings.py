"""Settings of the notification service: environment variables prefixed `NOTIFICATION_` (nested with `__`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from delivery.settings import ServiceSettings, database_url


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_")

    database_url: str = Field(default_factory=lambda: database_url("notification"))
    http_port: int = 8004
