"""Settings of the checkout service: environment variables prefixed `CHECKOUT_` (nested with `__`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from delivery.settings import ServiceSettings, database_url


class CheckoutSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHECKOUT_")

    database_url: str = Field(default_factory=lambda: database_url("checkout"))
    http_port: int = 8001
