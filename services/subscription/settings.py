"""Settings of the subscription service: environment variables prefixed `SUBSCRIPTION_` (nested with `__`).

The internal token (checkout registers the shops' key digests with it) has a development default so that
`make run` works on a fresh machine; it is named DEV_ONLY and the service logs a warning at start while it is
in use. `SUBSCRIPTION_DEV_CLOCK=true` turns on the movable dev clock and its `/dev/clock` endpoint; it is off
by default and must stay off in production (README).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from delivery.settings import ServiceSettings, database_url

DEV_ONLY_INTERNAL_TOKEN = "dev-only-subscription-internal-token-not-a-secret"  # noqa: S105 - dev default, warned


class SchedulerSettings(BaseModel):
    """The renewal scheduler (design §6.6)."""

    enabled: bool = Field(default=True, description="run the scheduler in this process")
    batch_size: int = Field(default=500, ge=1, le=5000, description="due subscriptions per transaction")
    poll_interval_s: float = Field(default=30.0, gt=0, description="longest sleep between two looks")
    min_pause_s: float = Field(default=0.5, gt=0, description="shortest sleep (due rows held by another replica)")
    stop_timeout_s: float = Field(default=10.0, gt=0)


class SubscriptionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUBSCRIPTION_")

    database_url: str = Field(default_factory=lambda: database_url("subscription"))
    http_port: int = 8003
    internal_token: SecretStr = Field(
        default=SecretStr(DEV_ONLY_INTERNAL_TOKEN),
        description="X-Internal-Token of the key registration endpoints; = CHECKOUT_SUBSCRIPTION_INTERNAL_TOKEN")
    dev_clock: bool = Field(
        default=False, description="local stack and tests only: a clock moved by POST /dev/clock; never in production")
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)

    @property
    def uses_dev_secrets(self) -> bool:
        return self.internal_token.get_secret_value() == DEV_ONLY_INTERNAL_TOKEN
