"""The whole system as `make run` starts it, on fresh databases named for this run, warmed with a few orders:
what the whole-system benchmarks (`checkout_bench`, `idle_cost`) measure, and the /proc scope they read."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.system_cost import Scope, listening_pid
from tests.e2e.stack import PG, Shop, Stack, drop_databases, fresh_databases, quiet


@dataclass(frozen=True, kw_only=True)
class WarmStack:
    stack: Stack
    scope: Scope
    shop: Shop


@asynccontextmanager
async def warm_stack(*, name: str, bootstrap: str, warm_orders: int) -> AsyncIterator[WarmStack]:
    """Started, `warm_orders` orders placed and answered (every consumer, pool and connection warm); stopped and
    its databases dropped on the way out. The databases are named per run: `fresh_databases` drops (WITH FORCE)
    whatever has its name, and two runs named alike once shared databases (one's warm-up counted the other's mails)."""
    databases = await fresh_databases(PG, f"{name}_{uuid.uuid4().hex[:8]}")
    stack = quiet(Stack.configure(workdir=Path(tempfile.mkdtemp(prefix=f"{name}-bench-")), pg_admin_url=PG,
                                  databases=databases, kafka=bootstrap))
    try:
        stack.start()
        assert stack.process is not None
        scope = Scope(runner=stack.process.pid, broker=listening_pid(int(bootstrap.rsplit(":", 1)[1])),
                      pg_admin_url=PG, databases=databases, bootstrap=bootstrap,
                      topic_prefix=stack.env["KAFKA_TOPIC_PREFIX"])
        shop = Shop(stack)
        tokens = [await shop.token() for _ in range(warm_orders)]
        await asyncio.gather(*(shop.checkout(shop.body(t), wait=30) for t in tokens))
        yield WarmStack(stack=stack, scope=scope, shop=shop)
    finally:
        stack.stop()
        await drop_databases(PG, databases)
