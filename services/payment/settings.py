"""Settings of the payment service: environment variables prefixed `PAYMENT_` (nested with `__`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from delivery.settings import ServiceSettings, database_url


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENT_")

    database_url: str = Field(default_factory=lambda: database_url("payment"))
    http_port: int = 8002
