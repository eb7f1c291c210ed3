"""Payment workers (docs/operations.md, roles): throughput at 200 ms gateway latency with 1, 2 and 3 payment worker
processes, and one worker of three killed (-9) mid-load.

    .venv/bin/python bench/payment_workers_bench.py [--orders 300] [--concurrency 128] [--workers 1,2,3]
                                                    [--worker-concurrency N] [--kill-orders 300] [--no-kill]
                                                    [--kill-latency-ms 200]

Each round runs the `make run` runner with `PAYMENT_WORKERS=N` (one payment API process, N workers) on fresh
databases and topics, warms up, sets 200 ms latency on every e-SCOTT operation at the emulator, and submits
orders to the demo shop as a storefront would (`POST /v1/checkouts?wait=30`, `--concurrency` at once). The clock
stops when the SMTP sink has accepted the last order's mails. It prints orders/s (one 1Auth each: authorizations
per second), checkout -> completed p50/p99, and core-ms per authorization per process (payment = its API and all
its workers), read from /proc. `--worker-concurrency` sets PAYMENT_CONSUMER__CONCURRENCY (orders one worker runs
at once; default the service's 64) to see scaling where one worker's concurrency, not the CPU, is the limit.

The kill round (3 workers) submits `--kill-orders` orders, SIGKILLs `payment-worker-2` once it has handled some,
lets the runner's supervisor restart it, and waits until every order is final. It then checks, from the outside,
that nothing was lost or done twice: every order answered and ended completed, or (a gateway call cut by the
kill, design §6.2) in review with its payment's outcome unknown; the emulator's ledger holds at most one
transaction per order with exactly one 1Auth, one per completed order; the SMTP sink holds exactly the mails of
the completed orders, none twice. Exit status 1 if any of that fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.checkout_bench import mails_accepted, mails_per_order, quantiles, wait_for_mails
from bench.system_cost import Scope, Snapshot, listening_pid
from tests.e2e.stack import PG, Shop, Stack, drop_databases, fresh_databases, quiet, run_benchmark

LATENCY = {"seed": 16, "default": {"latency_ms": 200}}
SETTLE_S = 300.0


async def submit(shop: Shop, tokens: list[str], concurrency: int) -> tuple[dict[str, Any], list[float]]:
    """checkout_id -> answer body, and the answer times."""
    gate = asyncio.Semaphore(concurrency)
    answers: dict[str, Any] = {}
    took: list[float] = []

    async def one(token: str) -> None:
        body = shop.body(token)
        async with gate:
            started = time.perf_counter()
            answers[body["checkout_id"]] = (await shop.checkout(body, wait=30)).json()
            took.append(time.perf_counter() - started)

    await asyncio.gather(*(one(t) for t in tokens))
    return answers, took


async def started_stack(bootstrap: str, workers: int, worker_concurrency: int | None) -> tuple[Stack, dict[str, str]]:
    databases = await fresh_databases(PG, f"bench_workers_{workers}_{uuid.uuid4().hex[:6]}")  # per run
    stack = quiet(Stack.configure(workdir=Path(tempfile.mkdtemp(prefix="workers-bench-")), pg_admin_url=PG,
                                  databases=databases, kafka=bootstrap))
    stack.env["PAYMENT_WORKERS"] = str(workers)
    if worker_concurrency:
        stack.env["PAYMENT_CONSUMER__CONCURRENCY"] = str(worker_concurrency)
    await asyncio.to_thread(stack.start, 240.0)
    return stack, databases


async def throughput_round(bootstrap: str, workers: int, args: argparse.Namespace) -> None:
    stack, databases = await started_stack(bootstrap, workers, args.worker_concurrency)
    try:
        assert stack.process is not None
        shop = Shop(stack)
        scope = Scope(runner=stack.process.pid, broker=listening_pid(int(bootstrap.rsplit(":", 1)[1])),
                      pg_admin_url=PG, databases=databases, bootstrap=bootstrap,
                      topic_prefix=stack.env["KAFKA_TOPIC_PREFIX"])
        warmup = [await shop.token() for _ in range(args.warmup)]
        await submit(shop, warmup, args.warmup)
        per_order = await mails_per_order(shop, args.warmup)
        await shop.http.post(f"{stack.urls['emulator']}/_emulator/reset")
        await shop.set_faults(LATENCY)
        tokens = [await shop.token() for _ in range(args.orders)]
        mails_before = await mails_accepted(shop)
        before = await Snapshot.take(scope)
        began = time.perf_counter()
        answers, took = await submit(shop, tokens, args.concurrency)
        await wait_for_mails(shop, mails_before + per_order * args.orders)
        wall = time.perf_counter() - began
        after = await Snapshot.take(scope)
        auths = (await shop.emulator("stats"))["operations"].get("1Auth", {}).get("ok", 0)
        statuses = Counter(a["status"] for a in answers.values())
        print(f"{workers} payment worker(s), consumer concurrency {args.worker_concurrency or 64} each, 200 ms "
              f"gateway latency: {args.orders} orders in {wall:.1f} s = {args.orders / wall:.1f} orders/s "
              f"({auths} 1Auth ok = {auths / wall:.1f} authorizations/s); checkout->completed {quantiles(took)}; "
              f"outcomes {dict(statuses)}", flush=True)
        print(after.report(before, count=max(auths, 1), wall=wall, unit="authorization"), flush=True)
        await shop.http.aclose()
    finally:
        stack.stop()
        await drop_databases(PG, databases)


async def worker_load(shop: Shop, url: str) -> tuple[float, float]:
    """(records handled, records in flight) from a worker's /metrics; zeros while it does not answer."""
    try:
        text = (await shop.http.get(url.replace("/health", "/metrics"))).text
    except Exception:
        return 0.0, 0.0
    samples = [line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#")]
    done = sum(float(v) for k, v in samples if k.startswith("kafka_records_total{") and 'outcome="handled"' in k)
    running = sum(float(v) for k, v in samples if k.startswith("kafka_records_in_flight{"))
    return done, running


async def settled(shop: Shop, order_ids: list[str]) -> dict[str, str]:
    """order id -> status once none is still on its way (pending_payment), within SETTLE_S."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        statuses = {}
        for order_id in order_ids:
            statuses[order_id] = (await shop.operator_call("GET", f"/orders/{order_id}")).json()["status"]
        if "pending_payment" not in statuses.values() or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(1.0)


async def kill_round(bootstrap: str, args: argparse.Namespace) -> bool:
    stack, databases = await started_stack(bootstrap, 3, args.worker_concurrency)
    try:
        assert stack.process is not None
        shop = Shop(stack)
        target = _worker_url(stack, 2)
        port = target.rsplit(":", 1)[1].split("/")[0]
        await shop.set_faults({**LATENCY, "default": {"latency_ms": args.kill_latency_ms}})
        tokens = [await shop.token() for _ in range(args.kill_orders)]
        load = asyncio.create_task(submit(shop, tokens, args.concurrency))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the worker to kill is busy: records done and some running
            done, running = await worker_load(shop, f"{target}/health")
            if done >= 10 and running > 0:
                break
            await asyncio.sleep(0.05)
        pid = listening_pid(int(port))  # the live worker (not the supervisor's warm standby of it)
        if pid is None:
            print("kill round: payment-worker-2 not found", flush=True)
            return False
        os.kill(pid, signal.SIGKILL)
        killed_at = time.perf_counter()
        print(f"kill round: SIGKILL payment-worker-2 (pid {pid}) with {running:.0f} records in flight, after it "
              f"handled {done:.0f}", flush=True)
        answers, _ = await load
        order_ids = [a["order_id"] for a in answers.values() if a.get("order_id")]
        statuses = await settled(shop, order_ids)
        completed = sum(1 for status in statuses.values() if status == "completed")
        await wait_for_mails(shop, 2 * completed)  # then verify finds any extra one too
        print(f"kill round: all answered {time.perf_counter() - killed_at:.1f} s after the kill; final statuses "
              f"{dict(Counter(statuses.values()))}", flush=True)
        return await verify(shop, answers=answers, statuses=statuses, stack=stack)
    finally:
        await shop.http.aclose()
        stack.stop()
        await drop_databases(PG, databases)


def _worker_url(stack: Stack, number: int) -> str:
    for line in stack.log().splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == f"payment-worker-{number}":
            return words[1]
    raise SystemExit(f"payment-worker-{number} has no URL in the runner's output")


async def verify(shop: Shop, *, answers: dict[str, Any], statuses: dict[str, str], stack: Stack) -> bool:
    problems = []
    if len(answers) != len(statuses) or any(not a.get("order_id") for a in answers.values()):
        problems.append(f"{len(answers)} checkouts, {len(statuses)} orders")
    completed = {o for o, s in statuses.items() if s == "completed"}
    leftovers = {o: s for o, s in statuses.items() if s not in ("completed", "needs_review")}
    if leftovers:
        problems.append(f"orders neither completed nor in review: {leftovers}")
    numbers = {a["order_id"]: a["payment_number"] for a in answers.values()}
    ledger = await shop.emulator("transactions")
    by_number = Counter(tx["merchant_free1"] for tx in ledger)
    auths = Counter(tx["merchant_free1"] for tx in ledger for step in tx["history"] if step["operate_id"] == "1Auth")
    twice = {n: c for n, c in by_number.items() if c > 1} | {n: c for n, c in auths.items() if c > 1}
    if twice:
        problems.append(f"payment numbers with more than one transaction or 1Auth: {twice}")
    missing = [o for o in completed if auths.get(numbers[o]) != 1]
    if missing:
        problems.append(f"completed orders without their 1Auth: {missing[:5]}")
    mails = (await shop.http.get(f"{stack.urls['smtp-sink']}/messages")).json()
    per_order = Counter(m["order_id"] for m in mails if m.get("order_id"))
    wrong = {o: per_order.get(o, 0) for o in completed if per_order.get(o, 0) != 2}
    if wrong:
        problems.append(f"completed orders without exactly 2 mails: {dict(list(wrong.items())[:5])}")
    restarted = any("payment-worker-2 exited" in line and "restart" in line for line in stack.log().splitlines())
    in_review = len(statuses) - len(completed)
    print(f"kill round: {len(completed)} completed with one 1Auth and 2 mails each, {in_review} in review "
          f"(gateway call cut by the kill: outcome unknown, never resent); ledger {len(ledger)} transactions for "
          f"{len(statuses)} orders; supervisor restarted the worker: {restarted}", flush=True)
    for problem in problems:
        print(f"kill round FAILED: {problem}", flush=True)
    return not problems


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    for workers in args.workers:
        await throughput_round(bootstrap, workers, args)
    if not args.no_kill and not await kill_round(bootstrap, args):
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=128, help="storefront requests at once")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",") if x], default=[1, 2, 3],
                        help="worker counts of the throughput rounds ('' for none)")
    parser.add_argument("--worker-concurrency", type=int, default=None)
    parser.add_argument("--kill-orders", type=int, default=300)
    parser.add_argument("--kill-latency-ms", type=int, default=200, help="gateway latency of the kill round (a "
                        "longer one makes it likelier that the kill cuts gateway calls)")
    parser.add_argument("--no-kill", action="store_true")
    cli = parser.parse_args()
    run_benchmark(lambda bootstrap: main(cli, bootstrap))
