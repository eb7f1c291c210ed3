"""Not collected on its own (no `test_` prefix): test_containers_backend.py runs it as a separate pytest session
with TEST_BACKEND=containers, to watch what that session leaves behind."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import asyncpg

from tests.testbed import LABEL, owner


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def test_postgres_comes_from_a_labelled_container_then_the_session_fails(pg_admin_url):
    import docker

    client = docker.from_env()
    try:
        mine = [c.name for c in client.containers.list(filters={"label": f"{LABEL}={owner()}"})]
    finally:
        client.close()
    version = asyncio.run(server_version(pg_admin_url))
    Path(os.environ["CHILD_REPORT"]).write_text(f"{owner()}\n{pg_admin_url}\n{version}\n{' '.join(mine)}\n")
    hold = float(os.environ.get("CHILD_HOLD_S") or 0)
    threading.Event().wait(hold)  # the parent signals this session during this bounded wait
    raise AssertionError("this session fails on purpose")
