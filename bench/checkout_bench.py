"""Orders per second and checkout -> completed latency (p50/p99) through the whole system as processes.

    .venv/bin/python bench/checkout_bench.py [--orders 300] [--concurrency 64]

Starts what is missing (PostgreSQL; a throw-away Kafka unless KAFKA_BOOTSTRAP_SERVERS is set), runs the
`make run` runner on fresh databases and a fresh topic prefix, then submits orders to the demo shop as a
storefront would (`POST /v1/checkouts?wait=30`, each answer waits for the final outcome), with 0 ms and then
200 ms gateway latency at the emulator. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.stack import PG, Shop, Stack, fresh_databases, quiet, run_benchmark


async def run_round(shop: Shop, *, orders: int, concurrency: int, latency_ms: int) -> None:
    await shop.set_faults({"seed": 7, "default": {"latency_ms": latency_ms}} if latency_ms else None)
    tokens = [await shop.token() for _ in range(orders)]
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: dict[str, int] = {}

    async def one(token: str) -> None:
        async with gate:
            started = time.perf_counter()
            outcome = (await shop.checkout(shop.body(token), wait=30)).json()
            latencies.append(time.perf_counter() - started)
            statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(one(t) for t in tokens))
    wall = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    stats = await shop.emulator("stats")
    print(f"gateway latency {latency_ms:>3} ms: {orders} orders in {wall:.1f} s = {orders / wall:.1f} orders/s; "
          f"checkout->completed p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms; outcomes {statuses}; "
          f"emulator max in flight {stats['max_in_flight']}", flush=True)


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="checkout-bench-"))
    stack = quiet(Stack.configure(workdir=workdir, pg_admin_url=PG, databases=await fresh_databases(PG, "bench"),
                                  kafka=bootstrap))
    try:
        stack.start()
        shop = Shop(stack)
        warmup = [await shop.token() for _ in range(5)]
        await asyncio.gather(*(shop.checkout(shop.body(t)) for t in warmup))
        for latency in (0, 200):
            await shop.http.post(f"{stack.urls['emulator']}/_emulator/reset")
            await run_round(shop, orders=args.orders, concurrency=args.concurrency, latency_ms=latency)
        await shop.http.aclose()
    finally:
        stack.stop()
    print(f"(stack log: {stack.log_path}; run id {uuid.uuid4().hex[:6]})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    run_benchmark(lambda bootstrap: main(args, bootstrap))
