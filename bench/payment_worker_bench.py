"""One payment worker process: authorizations per second at 200 ms gateway latency, fed from pre-published
`OrderPlaced` records, and the core-ms per authorization in that process.

    .venv/bin/python bench/payment_worker_bench.py [--orders 2000] [--latency-ms 200]

Runs the `make run` runner (fresh databases and topic prefix; PostgreSQL and a throw-away Kafka unless
KAFKA_BOOTSTRAP_SERVERS is set), places a few orders through the demo shop (warm-up; payment learns the shop and
its gateway credentials the way it always does), then:
- freezes (SIGSTOP) checkout, subscription and notification, so the only consumer of the records below and of
  the payment outcomes is the payment process, and nothing else of the stack competes for the CPU;
- sets the emulator's latency, freezes payment, publishes N `OrderPlaced` records to `orders.events` (copies of
  the warm-up's, each with its own order id, checkout id, payment number and a fresh emulator token sealed for
  payment; no member id, so each is one plain authorization) and thaws payment: the clock starts. The freeze
  lasts only while the records are sent (printed): longer than the consumer's session timeout (10 s), the broker
  drops payment from its group and the run measures a rebalance;
- stops the clock when payment has announced an outcome for every one of them on `payments.events`.
Prints authorizations/s, the emulator's highest number of calls in flight, payment's core-ms per authorization
(/proc), its PostgreSQL backends' core-ms per authorization, and commits per authorization.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.system_cost import Scope, Snapshot, listening_pid, named_processes
from contracts.envelope import Envelope
from contracts.events import OrderPlaced
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS
from delivery.sealing import DEV_ONLY_SEAL_KEY, TokenSealer
from tests.e2e.stack import PG, Shop, Stack, drop_databases, fresh_databases, quiet, run_benchmark

OUTCOMES = {"payment.authorized.v1", "payment.declined.v1", "payment.outcome_unknown.v1"}
FROZEN = ("checkout", "subscription", "notification")


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # partitions of a topic we do not subscribe to
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def last_order_placed(bootstrap: str, topic: str) -> OrderPlaced:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for records in (await consumer.getmany(timeout_ms=5000)).values():
            for record in records:
                if dict(record.headers).get("type") == OrderPlaced.TYPE.encode():
                    return Envelope.from_bytes(record.value).event_as(OrderPlaced)
    finally:
        await consumer.stop()
    raise SystemExit("no OrderPlaced in the warm-up")


def copies(template: OrderPlaced, tokens: list[str], *, sealer: TokenSealer, run: str) -> list[OrderPlaced]:
    prefix = template.payment_number[:8]
    return [OrderPlaced.model_validate({**template.model_dump(), **{
        "order_id": f"ord-bench-{run}-{n}", "checkout_id": f"chk-bench-{run}-{n}",
        "payment_number": f"{prefix}{int(run, 16) % 10_000:04d}{n:08d}",
        "sealed_token": sealer.seal(token), "buyer": template.buyer.model_copy(update={"member_id": None}),
        "payment": template.payment.model_copy(update={"use_registered_card": False, "keep_card": False}),
    }}) for n, token in enumerate(tokens)]


async def wait_for_outcomes(bootstrap: str, topic: str, *, start: dict[TopicPartition, int], order_ids: set[str],
                            timeout: float) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    seen: dict[str, int] = {}
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        done: set[str] = set()
        while len(done) < len(order_ids):
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(done)} of {len(order_ids)} outcomes within {timeout:.0f}s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    kind = dict(record.headers).get("type", b"").decode()
                    if kind in OUTCOMES:
                        order_id = Envelope.from_bytes(record.value).data.get("order_id")
                        if order_id in order_ids and order_id not in done:
                            done.add(order_id)
                            seen[kind] = seen.get(kind, 0) + 1
    finally:
        await consumer.stop()
    return seen


def signal_all(pids: dict[str, int], names: tuple[str, ...], sig: int) -> None:
    for name in names:
        if name in pids:
            # the supervisor may have replaced a frozen service (no /health answer for 30 s)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids[name], sig)


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    # unique per run: fresh_databases drops (WITH FORCE) what has its name, e.g. another run's databases
    databases = await fresh_databases(PG, f"paybench_{uuid.uuid4().hex[:8]}")
    stack = quiet(Stack.configure(workdir=Path(tempfile.mkdtemp(prefix="payment-bench-")), pg_admin_url=PG,
                                  databases=databases, kafka=bootstrap))
    pids: dict[str, int] = {}
    try:
        stack.start()
        assert stack.process is not None
        prefix = stack.env["KAFKA_TOPIC_PREFIX"]
        scope = Scope(runner=stack.process.pid, broker=listening_pid(int(bootstrap.rsplit(":", 1)[1])),
                      pg_admin_url=PG, databases={"payment": databases["payment"]}, bootstrap=bootstrap,
                      topic_prefix=prefix)
        shop = Shop(stack)
        warmup = [await shop.token() for _ in range(5)]
        await asyncio.gather(*(shop.checkout(shop.body(t), wait=30) for t in warmup))
        template = await last_order_placed(bootstrap, prefix + ORDERS_EVENTS)
        pids = named_processes(stack.process.pid)
        signal_all(pids, FROZEN, signal.SIGSTOP)
        await shop.http.post(f"{stack.urls['emulator']}/_emulator/reset")  # counters from zero (tokens too)
        tokens = [await shop.token() for _ in range(args.orders)]
        run = uuid.uuid4().hex[:6]
        orders = copies(template, tokens, sealer=TokenSealer(DEV_ONLY_SEAL_KEY), run=run)
        start = await end_offsets(bootstrap, prefix + PAYMENTS_EVENTS)
        records = [(Envelope.wrap(order, producer="bench", correlation_id=order.checkout_id or order.order_id)
                    .to_bytes(), order.kafka_key().encode()) for order in orders]
        if args.latency_ms:
            await shop.set_faults({"seed": 7, "default": {"latency_ms": args.latency_ms}})
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
        await producer.start()
        try:
            # Frozen only while the records are sent: a freeze longer than the consumer's session timeout (10 s)
            # makes the broker drop payment from its group, and the thawed worker spends the run rebalancing.
            before = await Snapshot.take(scope)
            signal_all(pids, ("payment",), signal.SIGSTOP)
            frozen = time.perf_counter()
            sends = [await producer.send(prefix + ORDERS_EVENTS, value, key=key,
                                         headers=[("type", OrderPlaced.TYPE.encode())]) for value, key in records]
            await asyncio.gather(*sends)
            began = time.perf_counter()
            signal_all(pids, ("payment",), signal.SIGCONT)
            frozen = began - frozen
        finally:
            await producer.stop()
        outcomes = await wait_for_outcomes(bootstrap, prefix + PAYMENTS_EVENTS, start=start,
                                           order_ids={o.order_id for o in orders}, timeout=args.timeout)
        wall = time.perf_counter() - began
        after = await Snapshot.take(scope)
        stats = await shop.emulator("stats")
        payment_ms = (after.cpu["payment"] - before.cpu["payment"]) * 1000 / args.orders
        backends = sum(v - before.cpu.get(k, 0.0) for k, v in after.cpu.items() if k.startswith("postgres:"))
        commits = (after.commits["payment"] - before.commits["payment"]) / args.orders
        print(f"one payment worker, gateway latency {args.latency_ms} ms: {args.orders} pre-published orders "
              f"authorized in {wall:.1f} s = {args.orders / wall:.0f} authorizations/s; outcomes {outcomes}; "
              f"emulator max in flight {stats['max_in_flight']}; payment frozen {frozen:.1f} s while they were "
              "published", flush=True)
        print(f"  payment process {payment_ms:.2f} core-ms per authorization; its PostgreSQL backends "
              f"{backends * 1000 / args.orders:.2f} core-ms; {commits:.1f} commits per authorization; "
              f"emulator {(after.cpu['emulator'] - before.cpu['emulator']) * 1000 / args.orders:.2f} core-ms; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        await shop.http.aclose()
    finally:
        try:
            signal_all(pids, (*FROZEN, "payment"), signal.SIGCONT)
        finally:
            stack.stop()
            await drop_databases(PG, databases)
    print(f"(stack log: {stack.log_path})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0)
    cli = parser.parse_args()
    run_benchmark(lambda bootstrap: main(cli, bootstrap))
