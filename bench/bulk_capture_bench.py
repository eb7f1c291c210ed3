"""Bulk capture: wall time of one `POST .../payments/bulk-capture` for N orders at 200 ms gateway latency.

    .venv/bin/python bench/bulk_capture_bench.py [--orders 500] [--latency-ms 200] [--rounds 3]

Starts what is missing (PostgreSQL; a throw-away Kafka unless KAFKA_BOOTSTRAP_SERVERS is set), runs the
`make run` runner (all services and the emulator as processes) on fresh databases and a fresh topic prefix,
places N orders in the demo shop (auth mode) at 0 ms latency, waits until their mails are out, then sets the
latency on every gateway call and
captures them all in one request through the payment service's operator API, and checks the emulator's ledger
(N captured, nothing else). Repeated `--rounds` times with new orders. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.stack import PG, Shop, Stack, drop_databases, fresh_databases, quiet, run_benchmark


async def place_orders(shop: Shop, count: int) -> list[str]:
    """N completed (authorized) orders, 64 checkouts at a time; their order ids."""
    tokens = [await shop.token() for _ in range(count)]
    gate = asyncio.Semaphore(64)

    async def one(token: str) -> str:
        async with gate:
            outcome = (await shop.checkout(shop.body(token), wait=30)).json()
            assert outcome["status"] == "completed", outcome
            return str(outcome["order_id"])

    return list(await asyncio.gather(*(one(t) for t in tokens)))


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU time (user + system) of the stack's processes (descendants of the runner), by name (Linux /proc)."""
    tick, procs = os.sysconf("SC_CLK_TCK"), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        name = next((a.decode() for a in args if a.startswith((b"services.", b"emulator", b"deploy."))), "other")
        procs[int(entry.name)] = (int(stat[1]), name, (int(stat[11]) + int(stat[12])) / tick)
    found: dict[str, float] = {}
    for pid, (_, name, seconds) in procs.items():
        parent = pid
        while parent in procs and parent != root:
            parent = procs[parent][0]
        if parent == root:
            found[name] = found.get(name, 0.0) + seconds
    return found


async def mails_settled(shop: Shop, expected: int, timeout: float = 180.0) -> None:
    """Wait (bounded) until the thanks mails of the placed orders are out, so they do not share the CPU with
    the capture being measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = (await shop.http.get(f"{shop.stack.urls['smtp-sink']}/stats")).json()
        if stats["stored"] >= expected:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{expected} mails not delivered within {timeout:.0f} s")


async def bulk_round(shop: Shop, count: int, latency_ms: int) -> float:
    await shop.http.post(f"{shop.stack.urls['emulator']}/_emulator/reset")
    await shop.http.delete(f"{shop.stack.urls['smtp-sink']}/messages")
    order_ids = await place_orders(shop, count)
    await mails_settled(shop, 2 * count)
    await shop.set_faults({"seed": 7, "default": {"latency_ms": latency_ms}})
    url = f"{shop.stack.urls['payment']}/v1/shops/{shop.shop_id}/payments/bulk-capture"
    body = {"orders": [{"order_id": o} for o in order_ids], "requested_by": "bench"}
    session = shop.stack.process.pid if shop.stack.process else 0
    cpu_before, started = cpu_seconds(session), time.perf_counter()
    response = await shop.http.post(url, json=body, headers=shop.operator, timeout=300)
    wall = time.perf_counter() - started
    cpu = {k: round(v - cpu_before.get(k, 0.0), 2) for k, v in cpu_seconds(session).items()}
    response.raise_for_status()
    summary = response.json()["summary"]
    stats = await shop.emulator("stats")
    assert summary == {"succeeded": count}, summary
    assert stats["transactions"].get("captured") == count, stats["transactions"]
    print(f"bulk capture of {count} orders at {latency_ms} ms gateway latency: {wall:.2f} s "
          f"({count / wall:.0f} captures/s); results {summary}; emulator max in flight {stats['max_in_flight']}; "
          f"CPU s during the request {dict(sorted(cpu.items(), key=lambda kv: -kv[1])[:5])}", flush=True)
    await shop.set_faults(None)
    return wall


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bulk-capture-bench-"))
    run_id = uuid.uuid4().hex[:6]
    databases = await fresh_databases(PG, f"bench_bulk_{run_id}")  # per run: two runs never drop each other's
    stack = quiet(Stack.configure(workdir=workdir, pg_admin_url=PG, databases=databases, kafka=bootstrap))
    try:
        stack.start()
        shop = Shop(stack)
        walls = [await bulk_round(shop, args.orders, args.latency_ms) for _ in range(args.rounds)]
        print(f"bulk capture, {args.orders} orders at {args.latency_ms} ms: best {min(walls):.2f} s, "
              f"worst {max(walls):.2f} s over {len(walls)} rounds", flush=True)
        await shop.http.aclose()
    finally:
        stack.stop()
        await drop_databases(PG, databases)
    print(f"(stack log: {stack.log_path}; run id {run_id})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run_benchmark(lambda bootstrap: main(args, bootstrap))
