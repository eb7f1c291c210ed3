"""PostgreSQL pool and the numbered-SQL migration runner shared by all services.

Why our own runner instead of alembic/yoyo: both need a synchronous driver (psycopg/SQLAlchemy) next to
asyncpg, for what is a list of SQL files applied in order. This runner is ~50 lines: files named
`NNN_description.sql`, applied once each in its own transaction, recorded in `schema_migrations`, serialised
across replicas by an advisory lock so several instances may start at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

DELIVERY_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")
_LOCK_ID = 7_340_011  # arbitrary, constant: "migrations running" advisory lock
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pool connection released without asyncpg's reset query (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`): one round trip and one transaction per release, half of all commits per order.

    Safe because no code leaves session state on a pooled connection: transactions are always closed by
    asyncpg before release (it still rolls back an open one), settings are `SET LOCAL` or per statement, the
    migration advisory lock is unlocked explicitly, and a LISTEN on a pooled connection is removed with its
    listener (`remove_listener` sends UNLISTEN). Code that needs session state uses its own `connect()`."""

    def get_reset_query(self) -> str:
        return ""


def connect_options(url: str) -> dict[str, Any]:
    """asyncpg options for `url`: no TLS to a server on this machine (loopback or a Unix socket), where it only
    costs CPU, unless the URL asks for an `sslmode`; a remote server keeps asyncpg's default (TLS preferred)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "sslmode" in query or "ssl" in query:
        return {}
    host = unquote(parts.hostname or "") or query.get("host", [""])[0]
    if not host or host.startswith("/") or host in _LOOPBACK:
        return {"ssl": False}
    return {}


async def connect(url: str) -> asyncpg.Connection:
    """One connection of its own (LISTEN, tools), with the same options as the pool."""
    return await asyncpg.connect(url, **connect_options(url))


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str


def load_migrations(*directories: Path) -> list[Migration]:
    """Files from all directories, in order. Versions are namespaced by directory name to allow equal numbers."""
    found: list[Migration] = []
    for directory in directories:
        for path in sorted(directory.glob("*.sql")):
            match = _NAME.match(path.name)
            if not match:
                raise ValueError(f"migration file name must look like 001_name.sql: {path}")
            found.append(Migration(f"{directory.parent.name}/{path.stem}", path.name, path.read_text()))
    return found


async def migrate(conn: asyncpg.Connection, *directories: Path) -> list[str]:
    """Apply what is missing; returns the versions applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)  # first: even creating the table races
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in load_migrations(DELIVERY_MIGRATIONS, *directories):
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", migration.version)
            applied_now.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return applied_now


async def ensure_database(url: str) -> None:
    """Create the service's database on first start when it is missing (e.g. on a server you brought)."""
    try:
        conn = await connect(url)
    except asyncpg.InvalidCatalogNameError:
        head, _, tail = url.rpartition("/")
        name, _, query = tail.partition("?")
        admin = await connect(f"{head}/postgres" + (f"?{query}" if query else ""))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass  # another replica created it first
        finally:
            await admin.close()
    else:
        await conn.close()


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    await ensure_database(url)
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, connection_class=PooledConnection,
                                     **connect_options(url))
    assert pool is not None
    return pool
