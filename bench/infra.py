"""The infrastructure the benchmarks share: a Kafka broker (KAFKA_BOOTSTRAP_SERVERS, else a throw-away local one
from deploy/local/kafka.py) and PostgreSQL (DATABASE_URL, else the local Debian cluster)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from delivery.settings import LOCAL_DATABASE_URL

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = LOCAL_DATABASE_URL


@asynccontextmanager
async def kafka_bootstrap() -> AsyncIterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    from deploy.local.kafka import LocalKafka, build_libs

    build_libs()
    broker = LocalKafka()
    try:
        yield await asyncio.to_thread(broker.start)  # start() runs its own event loop
    finally:
        await asyncio.to_thread(broker.stop)


async def ensure_local_postgres() -> str:
    process = await asyncio.create_subprocess_exec(str(ROOT / "deploy/local/postgres.sh"), "ensure")
    if await process.wait() != 0:
        raise SystemExit("deploy/local/postgres.sh ensure failed")
    return DEFAULT_PG
