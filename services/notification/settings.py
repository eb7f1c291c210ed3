"""Settings of the notification service: environment variables prefixed `NOTIFICATION_` (nested with `__`).

    NOTIFICATION_SMTP__HOST / __PORT / __SECURITY (none|starttls|tls) / __USERNAME / __PASSWORD /
        __TIMEOUT_S / __SEND_TIMEOUT_S / __VALIDATE_CERTS / __CA_FILE / __LOCAL_HOSTNAME /
        __POOL_SIZE / __IDLE_S
    NOTIFICATION_DISPATCH__CONCURRENCY / __BATCH_SIZE / __POLL_INTERVAL_S / __MAX_ATTEMPTS /
        __BACKOFF_INITIAL_S / __BACKOFF_MAX_S / __SENDING_LEASE_S
    NOTIFICATION_OUTBOX__LINGER_S (0.2: mail outcomes are published in passes at most this often) / __BATCH_SIZE
    NOTIFICATION_TEMPLATES_DIR, NOTIFICATION_MESSAGE_ID_DOMAIN, NOTIFICATION_INTERNAL_TOKEN
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from delivery.settings import OutboxSettings, ServiceSettings, database_url

MAIL_OUTCOME_LINGER_S = 0.2
"""Notification's relay publishes mail outcomes, which no service waits on, at most this much later, in fewer passes:
each SMTP result commits on its own, so without it nearly every outcome was its own relay transaction and produce
request (0.96 produce requests per order of 2 mails in a checkout bench at ~10-25 orders/s)."""

DEV_ONLY_INTERNAL_TOKEN = "dev-only-notification-internal-token-not-a-secret"  # noqa: S105 - dev default, warned


class SmtpSettings(BaseModel):
    """The SMTP server mails are handed to. The default is the local sink (`python -m deploy.local.smtp_sink`)."""

    host: str = "127.0.0.1"
    port: int = 8025
    security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none: plain; starttls: upgrade after EHLO (587); tls: implicit TLS (465)")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0, description="per SMTP command (connect, EHLO, MAIL, DATA ...)")
    send_timeout_s: float = Field(default=30.0, gt=0, description="the whole conversation of one mail")
    validate_certs: bool = True
    ca_file: Path | None = Field(default=None, description="PEM bundle of CAs to trust for the server's certificate "
                                                         "(a private CA); default: the system's")
    local_hostname: str | None = Field(default=None, description="EHLO name; default: this host's FQDN")
    pool_size: int = Field(default=8, ge=0, description="idle connections kept open for the next mails (0: a "
                                                        "connection per mail)")
    idle_s: float = Field(default=10.0, gt=0, description="an idle connection older than this is closed, not reused")


class DispatchSettings(BaseModel):
    """The mail dispatcher: a background task that sends due mails from the mail log (not a consumer lane)."""

    concurrency: int = Field(default=8, ge=1, description="SMTP conversations at once")
    batch_size: int = Field(default=50, ge=1, description="mails claimed per database round trip")
    poll_interval_s: float = Field(default=2.0, gt=0, description="look for due retries this often (new mails wake "
                                   "the dispatcher at once; a retry is due after at least backoff_initial_s)")
    max_attempts: int = Field(default=8, ge=1, description="tries before a mail is `failed` (also shop waits)")
    backoff_initial_s: float = Field(default=5.0, gt=0)
    backoff_max_s: float = Field(default=600.0, gt=0)
    sending_lease_s: float = Field(
        default=120.0, gt=0,
        description="a mail left `sending` longer than this (its worker died) is tried again; must exceed the "
                    "SMTP send timeout, or a slow live sender and a recovering one could both send it")


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_")

    database_url: str = Field(default_factory=lambda: database_url("notification"))
    http_port: int = 8004
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    outbox: OutboxSettings = Field(default_factory=lambda: OutboxSettings(linger_s=MAIL_OUTCOME_LINGER_S))
    templates_dir: Path | None = Field(
        default=None, description="per-shop template overrides: <dir>/<shop_id>/<name>.j2, or <dir>/<name>.j2 "
                                  "for every shop; missing files fall back to the built-in templates")
    message_id_domain: str = Field(default="escott-payments.invalid",
                                   description="right-hand side of every Message-ID we generate (keep it under ~27 "
                                               "characters: a longer one folds the header line)")
    internal_token: SecretStr = Field(
        default=SecretStr(DEV_ONLY_INTERNAL_TOKEN),
        description="X-Internal-Token checkout sends to register shops' operator keys (= CHECKOUT_NOTIFICATION_"
                    "INTERNAL_TOKEN)")

    @property
    def uses_dev_secrets(self) -> bool:
        return self.internal_token.get_secret_value() == DEV_ONLY_INTERNAL_TOKEN

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> NotificationSettings:
        if self.dispatch.sending_lease_s <= self.smtp.send_timeout_s:
            raise ValueError("dispatch.sending_lease_s must be greater than smtp.send_timeout_s")
        return self
