"""Settings of the payment service: environment variables prefixed `PAYMENT_` (nested with `__`).

The two secrets have development defaults so that `make run` works on a fresh machine; they are named
DEV_ONLY and the service logs a warning at start while either is in use. Set `PAYMENT_INTERNAL_TOKEN` and
`PAYMENT_ENCRYPTION_KEY` (a Fernet key; several comma-separated for rotation, the first encrypts) anywhere else.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from delivery.sealing import DEV_ONLY_SEAL_KEY
from delivery.settings import ServiceSettings, database_url

DEV_ONLY_INTERNAL_TOKEN = "dev-only-internal-token-not-a-secret"  # noqa: S105 - documented dev default
DEV_ONLY_ENCRYPTION_KEY = "REVWLU9OTFkgcGF5bWVudCBrZXksIG5vdCBzZWNyZXQ="  # base64("DEV-ONLY payment key, not secret")


class GatewaySettings(BaseModel):
    """How the e-SCOTT client connects. A read timeout makes an outcome unknown; keep it generous."""

    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    pool_timeout_s: float = Field(default=10.0, gt=0, description="wait for a free connection (not sent yet)")
    max_connections: int = Field(default=256, ge=1, description="calls in flight at once (design §6.4)")
    send_attempts: int = Field(default=3, ge=1, description="tries of a call that certainly was not sent")
    retry_backoff_s: float = Field(default=0.5, ge=0, description="first pause before resending a not-sent call")
    ca_file: str | None = Field(default=None, description="PEM file of the CAs to trust for the gateway's HTTPS "
                                "instead of the default ones (the emulator's `.cache/emulator-tls/ca.pem`); "
                                "verification is never off")


class OperationSettings(BaseModel):
    """Operator operations (R12, design §6.5)."""

    lease_s: float = Field(default=120.0, gt=0, description="an operation still running after this was "
                           "interrupted (crash): its outcome becomes unknown; keep it above the read timeout")
    decrease_by_change: bool = Field(default=True, description="lower an amount with 1Change (one call, no second "
                                     "hold) instead of 1ReAuth + 1Delete")
    bulk_concurrency: int = Field(default=64, ge=1, description="gateway operations in flight for one bulk capture")


class RetrySettings(BaseModel):
    """The renewal retry worker (R22 opt-in per shop; the shop's `renewal.retry` says whether and how often)."""

    enabled: bool = Field(default=True, description="run the retry worker in this process")
    batch_size: int = Field(default=50, ge=1, le=1000, description="due retries claimed per transaction")
    concurrency: int = Field(default=16, ge=1, description="retries one worker runs at once")
    claim_s: float = Field(default=300.0, gt=0, description="a claimed retry whose worker died comes due again "
                           "after this; keep it above the gateway's read timeout")
    poll_interval_s: float = Field(default=60.0, gt=0, description="longest sleep between two looks")
    min_pause_s: float = Field(default=1.0, gt=0, description="shortest sleep")
    member_busy_delay_s: float = Field(default=60.0, gt=0, description="a retry whose member's card is busy "
                                       "(another order of the member) waits this long")
    stop_timeout_s: float = Field(default=10.0, gt=0, description="a pass in flight may finish this long at stop")


class JanitorSettings(BaseModel):
    """The janitor (design §6.9): settles payments stuck past a deadline as unknown, so an operator sees them."""

    enabled: bool = Field(default=True, description="run the janitor in this process (worker role)")
    interval_s: float = Field(default=30.0, gt=0, description="time between two sweeps")
    stuck_after_s: float = Field(default=300.0, gt=0, description="a call still `sending` after this is settled as "
                                 "interrupted (unknown); keep it well above the gateway's read timeout")
    batch_size: int = Field(default=100, ge=1, le=1000, description="payments settled per sweep")


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENT_")

    database_url: str = Field(default_factory=lambda: database_url("payment"))
    http_port: int = 8002
    escott_base_url: str = "http://127.0.0.1:8899"
    public_url: str = Field(
        default="http://127.0.0.1:8002",
        description="payment's address as buyers' browsers reach it: the gateway sends them back to "
                    "<public_url>/public/v1/three-d-secure/{order_id}/return after 3-D Secure")
    authentication_sweep_s: float = Field(
        default=5.0, gt=0, description="how often 3-D Secure authentications past their deadline are declined")
    internal_token: SecretStr = SecretStr(DEV_ONLY_INTERNAL_TOKEN)
    encryption_key: SecretStr = SecretStr(DEV_ONLY_ENCRYPTION_KEY)
    token_seal_key: SecretStr = Field(
        default=SecretStr(DEV_ONLY_SEAL_KEY),
        description="Fernet key(s) opening the card token sealed in OrderPlaced; = CHECKOUT_TOKEN_SEAL_KEY")
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    operations: OperationSettings = Field(default_factory=OperationSettings)
    retries: RetrySettings = Field(default_factory=RetrySettings)
    janitor: JanitorSettings = Field(default_factory=JanitorSettings)
    units_together: int = Field(
        default=64, ge=1,
        description="units of work of concurrent orders committed in one transaction at most (a gateway step's "
                    "recorded attempt or applied answer, a new order's payment); 1: each in its own transaction")
    units_in_flight: int = Field(default=2, ge=1, description="such transactions at once (each its own connection)")
    member_lease_s: float = Field(
        default=120.0, gt=0,
        description="a member's card work (link, charge, unlink) runs one order at a time; a crashed holder's "
                    "lease expires after this",
    )

    card_busy_wait_s: float = Field(
        default=10.0, ge=0,
        description="a card request (the member's page, an operator) waits this long for another card work of the "
                    "member (an order, a renewal), then is refused with 409 card_busy",
    )
    card_authentication_window_s: float = Field(
        default=900.0, gt=0,
        description="how long a card registration or replacement through 3-D Secure waits for the member's browser "
                    "to come back from the gateway before it is abandoned",
    )

    @property
    def uses_dev_secrets(self) -> bool:
        return (self.internal_token.get_secret_value() == DEV_ONLY_INTERNAL_TOKEN
                or DEV_ONLY_ENCRYPTION_KEY in self.encryption_key.get_secret_value()
                or DEV_ONLY_SEAL_KEY in self.token_seal_key.get_secret_value())
