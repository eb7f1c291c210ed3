"""Settings of the subscription service: environment variables prefixed `SUBSCRIPTION_` (nested with `__`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from delivery.settings import ServiceSettings, database_url


class SubscriptionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUBSCRIPTION_")

    database_url: str = Field(default_factory=lambda: database_url("subscription"))
    http_port: int = 8003
