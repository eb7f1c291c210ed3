"""One running system (all services as processes) shared by the end-to-end tests of a module."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.stack import Shop, Stack, drop_databases, fresh_databases


@pytest.fixture(scope="module")
async def stack(pg_admin_url, kafka_bootstrap, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stack")
    # Unique per session: every session's workdir is named stack0, and fresh_databases drops (WITH FORCE) what
    # has its names, so a fixed prefix let concurrent e2e sessions empty each other's databases mid-run.
    databases = await fresh_databases(pg_admin_url, f"e2e_{uuid.uuid4().hex[:10]}")
    running = Stack.configure(workdir=workdir, pg_admin_url=pg_admin_url, databases=databases,
                              kafka=kafka_bootstrap)
    running.start()
    yield running
    running.stop()
    await drop_databases(pg_admin_url, databases)


@pytest.fixture
async def shop(stack):
    shop = Shop(stack)
    yield shop
    await shop.set_faults(None)
    await shop.http.aclose()
