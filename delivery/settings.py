"""Settings shared by every service: where Kafka and PostgreSQL are, and how consumers behave.

Each service nests these in its own `BaseSettings` (env prefix per service). The two server addresses also
fall back to the unprefixed `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL`, so one variable points every service
at an existing Kafka or PostgreSQL.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


class KafkaSettings(BaseModel):
    bootstrap_servers: str = Field(default_factory=lambda: _env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    client_id: str = ""
    request_timeout_ms: int = 30_000
    fetch_max_wait_ms: int = Field(default=2_000, gt=0, description="how long the broker holds a consumer's fetch "
                                   "while none of its partitions has a record: a record arriving answers it at once "
                                   "(and aiokafka fetches a partition again only after its records are taken), so "
                                   "this only sets how often an idle consumer asks; 500 (aiokafka's default) made "
                                   "the idle stack's fetches cost the broker ~20 core-ms/s")
    topic_prefix: str = Field(
        default_factory=lambda: _env("KAFKA_TOPIC_PREFIX", ""),
        description="namespace for topics and consumer groups (several environments on one cluster; tests)",
    )

    group_instance_id: str | None = Field(
        default_factory=lambda: os.environ.get("KAFKA_GROUP_INSTANCE_ID") or None,
        description="static group membership (KIP-345): a process restarted under the same id gets its partitions "
                    "back at once instead of waiting out the killed member's session. At most one running process "
                    "per id: the local supervisor sets it to the program's name (one process each, started again "
                    "only after it died); leave it unset where replicas have no stable identity (a Deployment)",
    )

    def topic(self, name: str) -> str:
        """The physical topic of a logical one (`contracts.topics` names are logical)."""
        return f"{self.topic_prefix}{name}"

    def group(self, group_id: str) -> str:
        return f"{self.topic_prefix}{group_id}"

    @property
    def servers(self) -> list[str]:
        """A list, never a comma-joined string: FastStream's KafkaBroker does not split one ("h1:9092,h2:9092")."""
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]


class ConsumerSettings(BaseModel):
    """Key-ordered concurrency and retry policy for one consumer group (design §6.3, §6.4)."""

    concurrency: int = Field(default=256, ge=1, description="handlers running at once (different keys); handlers "
                             "hold no database connection while they wait on a gateway, so one payment worker keeps "
                             "this many gateway calls in flight")
    max_buffered: int = Field(default=1024, ge=1, description="records fetched but not finished")
    max_attempts: int = Field(default=5, ge=1, description="tries of a failing handler before the DLQ")
    backoff_initial_s: float = Field(default=0.2, gt=0)
    backoff_max_s: float = Field(default=5.0, gt=0)
    batch_max_records: int = Field(default=128, ge=1, description="batch mode (a consumer that opts in): records "
                                   "applied in one transaction at most; 1 turns batching off")
    batch_in_flight: int = Field(default=4, ge=1, description="batch mode: batches applied at once (each its own "
                                 "transaction and connection): a lone batch's round trips would cap the consumer "
                                 "on a busy machine")
    commit_interval_s: float = Field(default=1.0, gt=0, description="offsets are committed at most this often (each "
                                     "commit is a write at the broker; after a crash, at most this much is "
                                     "redelivered, and the inbox absorbs it)")
    shutdown_timeout_s: float = Field(default=20.0, gt=0)


class OutboxSettings(BaseModel):
    batch_size: int = Field(default=500, ge=1)
    idle_poll_s: float = Field(default=5.0, gt=0, description="fallback poll when no NOTIFY arrives (a committed "
                               "row NOTIFYs the relay at once; this only bounds the wait if a NOTIFY was lost, e.g. "
                               "with the listening connection)")
    linger_s: float = Field(default=0.0, ge=0, description="after a wake-up, wait this long before publishing, so "
                            "rows committed meanwhile share the pass: one claim, one produce request, one delete "
                            "(0: publish at once; for events no service waits on, e.g. notification's mail outcomes)")


LOCAL_DATABASE_URL = "postgresql://payments:payments@%2Fvar%2Frun%2Fpostgresql/postgres"
"""The local cluster (`deploy/local/postgres.sh`) through its Unix socket: every round trip costs less CPU on
both sides than over loopback TCP (127.0.0.1:5432 still answers)."""


def database_url(database: str) -> str:
    """`DATABASE_URL` with its database name replaced: one server, one database per service."""
    base = _env("DATABASE_URL", LOCAL_DATABASE_URL)
    head, _, tail = base.rpartition("/")
    query = tail.partition("?")[2]
    return f"{head}/{database}" + (f"?{query}" if query else "")


class ServiceSettings(BaseSettings):
    """Fields every service has; each service subclasses it with its env prefix, database and port."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database_url: str
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    consumer: ConsumerSettings = Field(default_factory=ConsumerSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    db_pool_size: int = Field(default=20, ge=2, description="connections; gateway/SMTP calls hold none")
    http_host: str = "127.0.0.1"
    http_port: int
    worker_http_port: int | None = Field(default=None, description="worker role: /health and /metrics on this "
                                         "port; unset: no HTTP server (several workers on one host)")
    log_level: str = "INFO"
