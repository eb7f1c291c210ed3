"""Where the services are, for both front ends (environment variables `WEB_<SERVICE>_URL`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceUrls(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_")

    checkout_url: str = "http://127.0.0.1:8001"
    payment_url: str = "http://127.0.0.1:8002"
    subscription_url: str = "http://127.0.0.1:8003"
    notification_url: str = "http://127.0.0.1:8004"

    def as_dict(self) -> dict[str, str]:
        return {"checkout": self.checkout_url, "payment": self.payment_url, "subscription": self.subscription_url,
                "notification": self.notification_url}
