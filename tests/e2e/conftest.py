"""One running system (all services as processes) shared by the end-to-end tests of a module."""

from __future__ import annotations

import pytest

from tests.e2e.stack import SERVICES, Shop, Stack


@pytest.fixture(scope="module")
async def stack(pg_admin_url, kafka_bootstrap, tmp_path_factory):
    import asyncpg

    databases = {}
    admin = await asyncpg.connect(pg_admin_url)
    workdir = tmp_path_factory.mktemp("stack")
    try:
        for name in SERVICES:
            db = f"e2e_{name}_{workdir.name[-6:].replace('-', '_')}"
            await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{db}"')
            databases[name] = f"{pg_admin_url.rpartition('/')[0]}/{db}"
    finally:
        await admin.close()
    running = Stack.configure(workdir=workdir, pg_admin_url=pg_admin_url, databases=databases,
                              kafka=kafka_bootstrap)
    running.start()
    yield running
    running.stop()
    admin = await asyncpg.connect(pg_admin_url)
    try:
        for url in databases.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def shop(stack):
    shop = Shop(stack)
    yield shop
    await shop.set_faults(None)
    await shop.http.aclose()
