"""Settings of the checkout service: environment variables prefixed `CHECKOUT_` (nested with `__`).

CHECKOUT_ADMIN_TOKEN             platform token for `POST /admin/v1/shops` (empty: the admin API is off)
CHECKOUT_PAYMENT_URL             the payment service (internal endpoints), default http://127.0.0.1:8002
CHECKOUT_PAYMENT_INTERNAL_TOKEN  sent as X-Internal-Token; the same value as PAYMENT_INTERNAL_TOKEN
CHECKOUT_TOKEN_SEAL_KEY          Fernet key sealing the card token in OrderPlaced; = PAYMENT_TOKEN_SEAL_KEY
CHECKOUT_NOTIFICATION_URL        the notification service (operator keys), default http://127.0.0.1:8004
CHECKOUT_NOTIFICATION_INTERNAL_TOKEN  X-Internal-Token for it; the same value as NOTIFICATION_INTERNAL_TOKEN
CHECKOUT_SUBSCRIPTION_URL        the subscription service (operator and storefront keys), default http://127.0.0.1:8003
CHECKOUT_SUBSCRIPTION_INTERNAL_TOKEN  X-Internal-Token for it; the same value as SUBSCRIPTION_INTERNAL_TOKEN
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from delivery.sealing import DEV_ONLY_SEAL_KEY
from delivery.settings import ServiceSettings, database_url


class CheckoutSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHECKOUT_")

    database_url: str = Field(default_factory=lambda: database_url("checkout"))
    http_port: int = 8001
    admin_token: SecretStr = SecretStr("")
    payment_url: str = "http://127.0.0.1:8002"
    payment_internal_token: SecretStr = SecretStr("")
    notification_url: str = "http://127.0.0.1:8004"
    notification_internal_token: SecretStr = SecretStr("")
    subscription_url: str = "http://127.0.0.1:8003"
    subscription_internal_token: SecretStr = SecretStr("")
    token_seal_key: SecretStr = Field(
        default=SecretStr(DEV_ONLY_SEAL_KEY),
        description="Fernet key(s) sealing the card token in OrderPlaced; same value as PAYMENT_TOKEN_SEAL_KEY")
    payment_timeout_s: float = Field(default=5.0, gt=0, description="calls that change payment-side state")
    member_card_timeout_s: float = Field(
        default=1.5, gt=0, description="masked-card lookup for the payment page; on timeout the page goes without"
    )
    max_wait_s: float = Field(default=30.0, gt=0, le=30.0, description="longest `?wait=` on checkout outcomes")
    authentication_window_s: float = Field(
        default=900.0, gt=0, le=2400.0, description="how long an order waits for the buyer's EMV 3-D Secure "
        "(design §6.7) before it is rejected as authentication_abandoned; at most the gateway's 40 minutes (U06)")
