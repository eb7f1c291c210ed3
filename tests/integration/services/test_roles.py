"""Service roles (delivery.roles): `worker` runs the consumers and serves no API, `api` serves the API and joins
no consumer group, no argument does both; `python -m services.payment worker` runs without any HTTP port."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from delivery.roles import Role, parse_invocation
from delivery.settings import KafkaSettings
from tests.integration.services.support import SERVICES, build
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[3]


async def group_members(kafka: KafkaSettings, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.servers)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([kafka.group(group)])
    finally:
        await admin.close()
    return sum(len(g[5]) for response in described for g in response.groups if g[2] == "Stable")


def paths(app) -> set[str]:
    return set(app.openapi()["paths"])


def test_the_role_argument_defaults_to_all_and_rejects_unknown_roles():
    assert parse_invocation("p", []).role is Role.ALL
    assert parse_invocation("p", ["worker", "--http-port", "9000"]).http_port == 9000
    assert parse_invocation("p", ["api"]).role is Role.API
    with pytest.raises(SystemExit):
        parse_invocation("p", ["workers"])


@pytest.mark.parametrize("name", SERVICES)
async def test_a_worker_consumes_and_serves_only_health_and_metrics_an_api_joins_no_group(
        name, new_database, isolated_kafka):
    worker = build(name, database_url=await new_database(), kafka=isolated_kafka, role=Role.WORKER)
    api_database = await new_database()
    api = build(name, database_url=api_database, kafka=isolated_kafka, role=Role.API)
    everything = build(name, database_url=api_database, kafka=isolated_kafka, role=Role.ALL)
    own_routes = paths(everything) - paths(worker)
    assert own_routes, "the full app has API routes the worker leaves out"
    assert {"/health", "/metrics"} <= paths(worker)
    assert own_routes <= paths(api)
    async with api.router.lifespan_context(api):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://api") as client:

            async def api_ok() -> bool:  # the producer connects after the API serves
                return (await client.get("/health")).json()["status"] == "ok"

            await eventually(api_ok, timeout=60, message=f"{name} api healthy")
        assert await group_members(isolated_kafka, name) == 0
        async with worker.router.lifespan_context(worker):
            await eventually(lambda: group_members(isolated_kafka, name), timeout=120, interval=0.5,
                             message=f"{name} worker in its consumer group")
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=worker), base_url="http://w") as client:

                async def worker_ok() -> bool:
                    return (await client.get("/health")).json()["status"] == "ok"

                await eventually(worker_ok, timeout=60, message=f"{name} worker healthy")
                metrics = (await client.get("/metrics")).text
    assert "outbox_waiting_rows" in metrics


async def test_a_headless_worker_process_joins_its_group_and_stops_cleanly_on_sigterm(new_database, isolated_kafka):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENT_")}
    env.update(PAYMENT_DATABASE_URL=await new_database(), KAFKA_BOOTSTRAP_SERVERS=isolated_kafka.bootstrap_servers,
               KAFKA_TOPIC_PREFIX=isolated_kafka.topic_prefix, PAYMENT_HTTP_PORT="1")  # a port it must not take
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.payment", "worker", cwd=ROOT,
                                                   env=env, stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        # the process's imports alone took 17-36 s at load 25
        await eventually(lambda: group_members(isolated_kafka, "payment"), timeout=120, interval=0.5,
                         message="the worker process in the payment group")
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(90):
            _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()[-3000:]
        assert await group_members(isolated_kafka, "payment") == 0  # it left the group (no session timeout wait)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
