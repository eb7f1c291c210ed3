"""Session fixtures for real infrastructure (design §10).

Where Kafka and PostgreSQL come from is chosen by tests/backends.py: `TEST_BACKEND=local` (`make test`: the
servers named by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, else a throw-away broker from Maven Central's jars and
the local Debian cluster), `TEST_BACKEND=containers` (`make test-containers`: containers through Docker or podman,
tests/testbed.py), unset: the first of those available. Each test gets its own database and topics, so tests
never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import TopicSpec, topics_to_create
from delivery.kafka import ensure_topics
from delivery.settings import LOCAL_DATABASE_URL, KafkaSettings
from tests.backends import Backends, NoBackend, choose, this_machine

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = LOCAL_DATABASE_URL


@pytest.fixture(scope="session")
def backends() -> Backends:
    try:
        return choose(os.environ, this_machine())
    except NoBackend as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def testbed() -> Iterator:
    """The containers backend's engine and containers; everything it started is removed when the session ends."""
    from tests.testbed import Testbed

    bed = Testbed()
    try:
        bed.start()
        yield bed
    finally:
        bed.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(backends: Backends, request: pytest.FixtureRequest) -> Iterator[str]:
    if backends.kafka == "containers":
        yield request.getfixturevalue("testbed").kafka()
        return
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if backends.kafka == "env" and env:
        from deploy.local.kafka import wait_for_kafka

        asyncio.run(wait_for_kafka(env.split(",")[0], timeout=60))
        yield env
        return
    from deploy.local.kafka import LocalKafka, build_libs

    build_libs()
    broker = LocalKafka()
    try:
        yield broker.start()
    finally:
        broker.stop()
        shutil.rmtree(broker.work, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, request_timeout_ms=15_000)


@pytest.fixture(scope="session")
def pg_admin_url(backends: Backends, request: pytest.FixtureRequest) -> Iterator[str]:
    if backends.postgres == "containers":
        yield request.getfixturevalue("testbed").postgres()
        return
    env = os.environ.get("DATABASE_URL")
    if backends.postgres == "env" and env:
        yield env
        return
    subprocess.run([str(ROOT / "deploy/local/postgres.sh"), "ensure"], check=True)
    yield DEFAULT_PG


def _with_database(url: str, database: str) -> str:
    head, _, tail = url.rpartition("/")
    query = tail.partition("?")[2]
    return f"{head}/{database}" + (f"?{query}" if query else "")


@pytest.fixture
async def new_database(pg_admin_url: str) -> AsyncIterator:
    """`await new_database()` creates an empty database for this test and returns its URL; all are dropped after."""
    created: list[str] = []

    class Create:
        async def __call__(self) -> str:
            return await create()

        def keep(self, url: str) -> None:
            """Leave this database to the caller (a session fixture) instead of dropping it after the test."""
            created.remove(url.rpartition("/")[2].partition("?")[0])

    async def create() -> str:
        name = f"test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(pg_admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        created.append(name)
        return _with_database(pg_admin_url, name)

    yield Create()
    admin = await asyncpg.connect(pg_admin_url)
    try:
        for name in created:
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except asyncpg.PostgresError as exc:  # a leftover test_* database harms nothing; say so, go on
                warnings.warn(f"test database {name} not dropped: {exc}", stacklevel=1)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def _reused_databases(pg_admin_url: str) -> AsyncIterator[dict[str, str]]:
    made: dict[str, str] = {}
    yield made
    admin = await asyncpg.connect(pg_admin_url)
    try:
        for url in made.values():
            name = url.rpartition("/")[2].partition("?")[0]
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except asyncpg.PostgresError as exc:
                warnings.warn(f"test database {url} not dropped: {exc}", stacklevel=1)
    finally:
        await admin.close()


@pytest.fixture
def reused_database(_reused_databases: dict[str, str], new_database) -> Callable[[str], Awaitable[str]]:
    """`await reused_database("payment")`: one database per name for the whole session, emptied (every table but
    `schema_migrations` truncated) each time a test asks for it. Creating a database costs ~0.5 s, emptying one
    ~20 ms: for the contract suites, which run hundreds of short tests on the same schema. Migrations already
    applied stay applied (the caller's `migrate` is then a no-op)."""

    async def get(name: str) -> str:
        url = _reused_databases.get(name)
        if url is None:
            url = _reused_databases[name] = await _created_for_session(new_database)
            return url
        conn = await asyncpg.connect(url)
        try:
            tables = [r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'")]
            if tables:
                await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        finally:
            await conn.close()
        return url

    return get


async def _created_for_session(new_database) -> str:
    """A database made through `new_database` but kept past this test: the session fixture drops it."""
    url: str = await new_database()
    new_database.keep(url)
    return url


@pytest.fixture
async def database_url(new_database) -> str:
    """A new, empty database for this test; dropped afterwards."""
    return await new_database()


@pytest.fixture
def new_topic(kafka_settings: KafkaSettings):
    """`await new_topic(partitions)` creates a uniquely named topic and its DLQ; returns the name."""

    async def create(partitions: int = 1, prefix: str = "t") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        await ensure_topics(kafka_settings, [TopicSpec(name, partitions), TopicSpec(f"{name}.dlq", partitions)])
        return name

    return create


@pytest.fixture
async def isolated_kafka(kafka_settings: KafkaSettings) -> AsyncIterator[KafkaSettings]:
    """Kafka settings whose topics and consumer groups live under a fresh prefix, with every contract topic
    (and DLQ) created: services started with these see only this test's messages. The topics are deleted
    afterwards, so one broker serves the whole session without piling up partitions (about 100 per test)."""
    settings = kafka_settings.model_copy(update={"topic_prefix": f"t{uuid.uuid4().hex[:8]}."})
    specs = topics_to_create()
    await ensure_topics(settings, specs)
    yield settings
    await _delete_topics(settings, [settings.topic(spec.name) for spec in specs])


async def _delete_topics(settings: KafkaSettings, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.servers, request_timeout_ms=10_000)
    try:
        async with asyncio.timeout(20):
            await admin.start()
            try:
                await admin.delete_topics(names, timeout_ms=10_000)
            finally:
                await admin.close()
    except Exception as exc:  # cleanup only: a leftover topic costs space, not correctness
        warnings.warn(f"test topics not deleted: {type(exc).__name__}: {exc}", stacklevel=1)
