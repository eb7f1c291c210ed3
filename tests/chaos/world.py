"""The chaos run's world: its own PostgreSQL cluster and Kafka broker (never the shared ones, which it restarts),
fresh databases, the emulator, the SMTP sink and every service under `deploy.local.supervisor`, payment as one API
process and N workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from delivery.settings import KafkaSettings
from deploy.local import run
from deploy.local.kafka import LocalKafka, build_libs, free_port
from deploy.local.orphan_guard import OrphanGuard
from deploy.local.pg_cluster import LocalPostgres
from deploy.local.supervisor import Supervisor
from deploy.local.topics import create_all
from tests.e2e.stack import fresh_databases

SERVICES = ("checkout", "payment", "subscription", "notification")
NOT_RUN = ("console", "storefront")  # browser-facing pages: nothing of the order path
HEALTH_TIMEOUT_S = 180.0
UNHEALTHY_AFTER_S = 60.0  # above a broker restart on a loaded machine (67 s measured), which fails every /health
# Shorter than the defaults so the run settles within minutes, each still above what it must outlast: a gateway
# call's read timeout 5 s (no_answer faults hold until it), operation and member leases 15 s, a mail's sending
# lease 40 s (above the 30 s SMTP conversation limit), the janitor's deadline 30 s.
FAST_RECOVERY = {"PAYMENT_GATEWAY__READ_TIMEOUT_S": "5", "PAYMENT_OPERATIONS__LEASE_S": "15",
                 "PAYMENT_MEMBER_LEASE_S": "15", "NOTIFICATION_DISPATCH__SENDING_LEASE_S": "40",
                 "NOTIFICATION_DISPATCH__BACKOFF_INITIAL_S": "1", "PAYMENT_JANITOR__STUCK_AFTER_S": "30",
                 "PAYMENT_JANITOR__INTERVAL_S": "5"}


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """`os.environ` as `env` for a moment (the services' settings classes read it to name their ports)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(kw_only=True)
class World:
    work: Path
    postgres: LocalPostgres
    kafka: LocalKafka
    supervisor: Supervisor
    guard: OrphanGuard
    env: dict[str, str]
    health: dict[str, str] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, work: Path, *, payment_workers: int = 2) -> World:
        work.mkdir(parents=True, exist_ok=True)
        build_libs()
        guard = OrphanGuard().start()  # nothing of the world outlives the run, however the run ends
        postgres, kafka = LocalPostgres(work / "postgres", guard=guard), LocalKafka(work / "kafka", guard=guard)
        log = open(work / "stack.log", "w", buffering=1)  # noqa: SIM115 - the supervisor writes it all run long
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_HTTP_PORT"))
               and k not in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC_PREFIX", "DATABASE_URL")}
        env.update({f"{name.upper()}_HTTP_PORT": str(free_port()) for name in SERVICES},
                   ESCOTT_EMULATOR_PORT=str(free_port()), SMTP_SINK_PORT=str(free_port()),
                   SMTP_SINK_HTTP_PORT=str(free_port()), SMTP_SINK_MAILDIR=str(work / "Maildir"),
                   PAYMENT_WORKERS=str(payment_workers), **FAST_RECOVERY)
        supervisor = Supervisor(log, standby=True, unhealthy_after_s=UNHEALTHY_AFTER_S, guard=guard)
        return cls(work=work, postgres=postgres, kafka=kafka, supervisor=supervisor, guard=guard,
                   env=run.local_env(env))

    def start(self) -> None:
        admin_url = self.postgres.start()
        self.databases = asyncio.run(fresh_databases(admin_url, "chaos"))
        self.env.update({f"{n.upper()}_DATABASE_URL": url for n, url in self.databases.items()},
                        DATABASE_URL=admin_url, KAFKA_BOOTSTRAP_SERVERS=self.kafka.start())
        asyncio.run(create_all(self.kafka_settings))
        with environment(self.env):
            programs = {n: c for n, c in run.components(self.env).items() if n not in NOT_RUN}
        for name, (command, health) in programs.items():
            self.supervisor.add(name, command, env=run.program_env(self.env, name), cwd=str(run.ROOT), health=health)
            self.health[name] = health
        self.supervisor.start()
        self.wait_healthy(list(self.health))
        if not run.seed_demo_shop(self.env, self.url("checkout")):
            raise RuntimeError("demo shop not seeded (see the stack log)")

    @property
    def kafka_settings(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"], topic_prefix="")

    @property
    def log_path(self) -> Path:
        return self.work / "stack.log"

    def url(self, name: str) -> str:
        return self.health[name].rsplit("/", 1)[0].replace("/_emulator", "")

    def wait_healthy(self, names: list[str], timeout: float = HEALTH_TIMEOUT_S) -> float:
        """Seconds until every named program answers its health check with 200."""
        started, pending = time.monotonic(), set(names)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name in list(pending):
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(self.health[name]).status_code == 200:
                            pending.discard(name)
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"not healthy after {timeout}s: {sorted(pending)}")
                time.sleep(0.05)
        return time.monotonic() - started

    def programs(self) -> list[str]:
        return list(self.health)

    def stop(self) -> None:
        try:
            self.supervisor.stop()
            self.kafka.stop()
            self.postgres.stop()
        finally:
            self.guard.close()
