"""Orders per second, checkout -> completed latency (p50/p99) and what each order costs, through the whole system
as processes.

    .venv/bin/python bench/checkout_bench.py [--orders 600] [--concurrency 64] [--latencies 0,200]

Starts what is missing (PostgreSQL; a throw-away Kafka unless KAFKA_BOOTSTRAP_SERVERS is set), runs the
`make run` runner on fresh databases and a fresh topic prefix, then submits orders to the demo shop as a
storefront would (`POST /v1/checkouts?wait=30`, each answer waits for the final outcome), with 0 ms and then
200 ms gateway latency at the emulator (`--past-orders 1000000`: on databases pre-filled with a million past
orders, payments, mails and inbox rows, generated in SQL, with EXPLAIN of the hot lookups and the scans of every
big table per round). A round's clock stops when the SMTP sink has accepted the last order's
mails (the goal is orders completed with their mails), not when the last checkout answers.

Per round it prints: orders/s; p50/p99 of checkout -> completed (the answer) and of checkout -> last mail
accepted; core-ms per order of every process (/proc: services, this run's PostgreSQL backends, the Kafka broker
listening on the bootstrap port, the load client, the SMTP sink, the emulator); PostgreSQL commits per order
(pg_stat_database) and Kafka records per order (end offsets of this run's topics). `--statements` adds
PostgreSQL's side statement by statement (bench/pg_statements.py), with DATABASE_URL at a cluster that has
pg_stat_statements loaded. The shared broker's CPU
includes whatever else uses it at the time; the machine's load is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import past_orders
from bench.pg_statements import StatementSnapshot
from bench.system_cost import Scope, Snapshot
from bench.warm_stack import warm_stack
from tests.e2e.stack import Shop, run_benchmark

MAIL_WAIT_S = 120.0


def quantiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
    return f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"


async def mails_accepted(shop: Shop) -> int:
    response = await shop.http.get(f"{shop.stack.urls['smtp-sink']}/stats")
    return int(response.json()["accepted"])


async def wait_for_mails(shop: Shop, count: int) -> None:
    deadline = time.monotonic() + MAIL_WAIT_S
    while await mails_accepted(shop) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the SMTP sink did not accept {count} mails within {MAIL_WAIT_S:.0f}s")
        await asyncio.sleep(0.02)


async def mails_per_order(shop: Shop, orders: int) -> int:
    """After the warm-up: how many mails one order makes (the sink's count once it stops growing)."""
    deadline, last, since = time.monotonic() + 60, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = await mails_accepted(shop)
        if now != last:
            last, since = now, time.monotonic()
        elif now and time.monotonic() - since > 2.0:
            break
        await asyncio.sleep(0.1)
    if last <= 0 or last % orders:
        raise SystemExit(f"warm-up: {orders} orders made {last} mails (expected a whole number per order)")
    return last // orders


async def last_mail_times(shop: Shop) -> dict[str, float]:
    """order id -> wall time its last mail was accepted (the sink's X-Sink-Received-At)."""
    found: dict[str, float] = {}
    # the sink decodes every message for this list: on a loaded machine that took more than the client's 40 s
    listed = await shop.http.get(f"{shop.stack.urls['smtp-sink']}/messages", timeout=180)
    for summary in listed.json():
        if summary.get("order_id") and summary.get("received_at"):
            at = datetime.fromisoformat(summary["received_at"]).timestamp()
            found[summary["order_id"]] = max(at, found.get(summary["order_id"], 0.0))
    return found


def _by_name(scope: Scope) -> dict[str, str]:
    return {url.rsplit("/", 1)[1]: url for url in scope.databases.values()}


async def run_round(shop: Shop, scope: Scope, *, args: argparse.Namespace, latency_ms: int, per_order: int) -> None:
    await shop.set_faults({"seed": 7, "default": {"latency_ms": latency_ms}} if latency_ms else None)
    await shop.http.delete(f"{shop.stack.urls['smtp-sink']}/messages")
    tokens = [await shop.token() for _ in range(args.orders)]
    gate = asyncio.Semaphore(args.concurrency)
    answered: list[float] = []
    started_at: dict[str, float] = {}
    statuses: dict[str, int] = {}

    async def one(token: str) -> None:
        async with gate:
            wall, started = time.time(), time.perf_counter()
            outcome = (await shop.checkout(shop.body(token), wait=30)).json()
            answered.append(time.perf_counter() - started)
            statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1
            if outcome.get("order_id"):
                started_at[outcome["order_id"]] = wall

    mails_before = await mails_accepted(shop)
    scans_before = await past_orders.scans(scope.databases) if args.past_orders else {}
    statements = await StatementSnapshot.take(scope.pg_admin_url, _by_name(scope)) if args.statements else None
    before = await Snapshot.take(scope)
    began = time.perf_counter()
    await asyncio.gather(*(one(t) for t in tokens))
    answers_done = time.perf_counter() - began
    await wait_for_mails(shop, mails_before + per_order * args.orders)
    wall = time.perf_counter() - began
    after = await Snapshot.take(scope)
    statements_after = await StatementSnapshot.take(scope.pg_admin_url, _by_name(scope)) if statements else None
    mailed = await last_mail_times(shop)
    to_mail = [mailed[o] - t for o, t in started_at.items() if o in mailed]
    stats = await shop.emulator("stats")
    print(f"gateway latency {latency_ms:>3} ms: {args.orders} orders completed with {per_order} mails each in "
          f"{wall:.1f} s = {args.orders / wall:.1f} orders/s (last answer after {answers_done:.1f} s); "
          f"checkout->completed {quantiles(answered)}; checkout->last mail {quantiles(to_mail)}; outcomes "
          f"{statuses}; emulator max in flight {stats['max_in_flight']}", flush=True)
    print(after.report(before, count=args.orders, wall=wall), flush=True)
    if statements and statements_after:
        print(statements_after.report(statements, count=args.orders), flush=True)
    if args.past_orders:
        print(past_orders.report_scans(scans_before, await past_orders.scans(scope.databases)), flush=True)


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    async with warm_stack(name="bench", bootstrap=bootstrap, warm_orders=args.warmup) as warm:
        shop, scope = warm.shop, warm.scope
        per_order = await mails_per_order(shop, args.warmup)
        if args.past_orders:
            print(f"filling every growing table with {args.past_orders} past rows (SQL generate_series):", flush=True)
            await past_orders.fill(scope.databases, copies=args.past_orders, at_least=args.warmup)
            print("hot lookups on the filled databases:\n" + await past_orders.explain(scope.databases), flush=True)
        for latency in args.latencies:
            await shop.http.post(f"{warm.stack.urls['emulator']}/_emulator/reset")
            await run_round(shop, scope, args=args, latency_ms=latency, per_order=per_order)
        await shop.http.aclose()
    print(f"(stack log: {warm.stack.log_path}; run id {uuid.uuid4().hex[:6]})")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--past-orders", type=int, default=0,
                        help="first fill the databases with this many past orders, payments, mails, inbox rows ...")
    parser.add_argument("--latencies", type=lambda s: [int(x) for x in s.split(",")], default=[0, 200],
                        help="gateway latencies (ms) of the rounds, comma-separated")
    parser.add_argument("--statements", action="store_true",
                        help="per round, PostgreSQL statement by statement (pg_stat_statements), WAL and the "
                             "cluster's own processes: DATABASE_URL at a cluster with pg_stat_statements loaded "
                             "(bench/pg_statements.py)")
    cli = parser.parse_args()
    run_benchmark(lambda bootstrap: main(cli, bootstrap))
