"""The shared migration runner: each file once, in order, safe when replicas start together."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from delivery.db import DELIVERY_MIGRATIONS, create_pool, load_migrations, migrate

pytestmark = [pytest.mark.postgres]


async def test_migrations_apply_once_in_order_even_when_replicas_start_at_the_same_time(database_url, tmp_path):
    service = tmp_path / "shop" / "migrations"
    service.mkdir(parents=True)
    (service / "001_orders.sql").write_text("CREATE TABLE orders (id text PRIMARY KEY);")
    (service / "002_order_total.sql").write_text("ALTER TABLE orders ADD COLUMN total int NOT NULL DEFAULT 0;")
    conns = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrate(c, service) for c in conns))
        again = await migrate(conns[0], service)
        versions = [r["version"] for r in await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY 1")]
    finally:
        for conn in conns:
            await conn.close()
    expected = [m.version for m in load_migrations(DELIVERY_MIGRATIONS)] + ["shop/001_orders", "shop/002_order_total"]
    assert sorted(v for run in applied for v in run) == sorted(expected)
    assert again == []
    assert versions == sorted(expected)


def test_a_badly_named_migration_file_is_refused(tmp_path):
    (tmp_path / "add_orders.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match=r"001_name\.sql"):
        load_migrations(tmp_path)


async def test_a_missing_service_database_is_created_on_first_start(pg_admin_url):
    head = pg_admin_url.rpartition("/")[0]
    name = "test_created_by_service"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    try:
        pool = await create_pool(f"{head}/{name}", min_size=1, max_size=1)
        assert await pool.fetchval("SELECT current_database()") == name
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
