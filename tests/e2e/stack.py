"""The whole system as processes (the `make run` runner), on the test session's Kafka and PostgreSQL, with
its own databases, topic prefix and ports: what a user runs, observed from the outside."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from delivery.settings import LOCAL_DATABASE_URL
from deploy.local import demo_shop as demo
from deploy.local.kafka import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("checkout", "payment", "subscription", "notification")
WEB = ("console", "storefront")
PG = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)


@dataclass(kw_only=True)
class Stack:
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def configure(cls, *, workdir: Path, pg_admin_url: str, databases: dict[str, str], kafka: str) -> Stack:
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_HTTP_PORT"))}
        ports = {name: free_port() for name in (*SERVICES, *WEB)}
        env.update({f"{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()})
        env.update({f"{name.upper()}_DATABASE_URL": url for name, url in databases.items()})
        env.update(DATABASE_URL=pg_admin_url, KAFKA_BOOTSTRAP_SERVERS=kafka,
                   KAFKA_TOPIC_PREFIX=f"e2e{uuid.uuid4().hex[:6]}.", ESCOTT_EMULATOR_PORT=str(free_port()),
                   SMTP_SINK_PORT=str(free_port()), SMTP_SINK_HTTP_PORT=str(free_port()),
                   SMTP_SINK_MAILDIR=str(workdir / "Maildir"), PAYMENT_LOG_LEVEL="DEBUG",
                   CHECKOUT_LOG_LEVEL="DEBUG")
        return cls(env=env, log_path=workdir / "stack.log")

    def start(self, timeout: float = 150.0) -> None:
        log = open(self.log_path, "w")  # noqa: SIM115 - the runner writes it for its whole life
        self.process = subprocess.Popen([sys.executable, "-m", "deploy.local.run"], cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        output = wait_for_line(self.log_path, "READY", self.process, timeout=timeout)
        lines = [line.strip() for line in output.splitlines()]
        after = lines[lines.index("READY") + 1:]
        self.urls = dict(line.split() for line in after[:next((i for i, x in enumerate(after) if len(x.split()) != 2),
                                                              len(after))])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text()


def wait_for_line(path: Path, needle: str, proc: subprocess.Popen, timeout: float) -> str:
    """The runner's output once a line equal to `needle` appears; fails at `timeout` or if the runner exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if any(line.strip() == needle for line in text.splitlines()):
            return text
        if proc.poll() is not None:
            raise AssertionError(f"runner exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"no {needle!r} line within {timeout}s:\n{path.read_text()[-3000:]}")


class Shop:
    """Storefront, operator and gateway-admin calls for one shop of a running stack."""

    def __init__(self, stack: Stack, shop_id: str = demo.SHOP_ID, storefront_key: str = demo.STOREFRONT_KEY,
                 operator_key: str = demo.OPERATOR_KEY):
        self.stack, self.shop_id = stack, shop_id
        self.storefront = {"X-Storefront-Key": storefront_key}
        self.operator = {"X-Operator-Key": operator_key}
        self.http = httpx.AsyncClient(timeout=40)

    async def token(self, card: str = "4111111111111111") -> str:
        response = await self.http.post(f"{self.stack.urls['emulator']}/_emulator/tokens",
                                        data={"CardNo": card, "CardExp": "3012", "SecCd": "123",
                                              "k_TokenNinsyoCode": demo.CREDENTIALS["token_auth_code"]})
        return response.text.split("=", 1)[1]

    def body(self, token: str | None, **changes: Any) -> dict[str, Any]:
        body = demo.example_body(f"e2e-{uuid.uuid4().hex}", token or "")
        body["shop_id"] = self.shop_id
        payment = body["payment"]
        payment["token"] = token
        for key in ("use_registered_card", "keep_card", "pay_type"):
            if key in changes:
                payment[key] = changes.pop(key)
        if "member_id" in changes:
            body["buyer"]["member_id"] = changes.pop("member_id")
        body.update(changes)
        return body

    async def checkout(self, body: dict[str, Any], wait: int = 20) -> httpx.Response:
        return await self.http.post(f"{self.stack.urls['checkout']}/v1/checkouts", params={"wait": wait},
                                    json=body, headers=self.storefront)

    async def operator_call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, f"{self.stack.urls['checkout']}/v1/shops/{self.shop_id}{path}",
                                       json=body, headers=self.operator)

    async def emulator(self, path: str, **params: Any) -> Any:
        response = await self.http.get(f"{self.stack.urls['emulator']}/_emulator/{path}", params=params)
        response.raise_for_status()
        return response.json()

    async def set_faults(self, plan: dict[str, Any] | None) -> None:
        url = f"{self.stack.urls['emulator']}/_emulator/faults"
        response = await (self.http.put(url, json=plan) if plan else self.http.delete(url))
        response.raise_for_status()


async def fresh_databases(pg_admin_url: str, prefix: str) -> dict[str, str]:
    """One empty database per service, `<prefix>_<service>` (dropped first if left over)."""
    import asyncpg

    admin = await asyncpg.connect(pg_admin_url)
    urls = {}
    try:
        for name in SERVICES:
            database = f"{prefix}_{name}"
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{database}"')
            urls[name] = f"{pg_admin_url.rpartition('/')[0]}/{database}"
    finally:
        await admin.close()
    return urls


async def drop_databases(pg_admin_url: str, urls: dict[str, str]) -> None:
    import asyncpg

    admin = await asyncpg.connect(pg_admin_url)
    try:
        for url in urls.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await admin.close()


def run_benchmark(main: Callable[[str], Awaitable[None]]) -> None:
    """For bench/: PostgreSQL ensured, a throw-away Kafka unless KAFKA_BOOTSTRAP_SERVERS is set, then
    `main(bootstrap)`; the broker is stopped however `main` ends."""
    from deploy.local.kafka import LocalKafka, build_libs

    subprocess.run([str(ROOT / "deploy/local/postgres.sh"), "ensure"], check=True)
    bootstrap, kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), None
    if not bootstrap:
        build_libs()
        kafka = LocalKafka()
        bootstrap = kafka.start()
    try:
        asyncio.run(main(bootstrap))
    finally:
        if kafka is not None:
            kafka.stop()


def quiet(stack: Stack) -> Stack:
    """Benchmarks: services log warnings and errors only."""
    stack.env.update(PAYMENT_LOG_LEVEL="WARNING", CHECKOUT_LOG_LEVEL="WARNING", NOTIFICATION_LOG_LEVEL="WARNING")
    return stack
