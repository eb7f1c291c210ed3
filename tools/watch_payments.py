"""`python -m tools.watch_payments`: a live summary of `payments.events` for monitoring teams.

    python -m tools.watch_payments [--bootstrap-servers HOST:PORT] [--group payments-watch] [--from-beginning]
                                   [--interval 5] [--window 10] [--max-records N]

Every `--interval` seconds it prints one line: authorizations per second over the last `--window` seconds,
authorized / declined counts with the declines by result-code kind (G card company, C card or contract, K
message check, E gateway system; a decline counts once per kind among its codes), outcomes unknown (and those
not yet resolved by a later authorization or decline of the same order), other event types, unreadable records.

How to read the public topic (docs/contracts.md): every record value is an `Envelope` (JSON) whose `type` names
the event and version; the `type` header repeats it, so records of types you do not count are skipped unparsed;
`Envelope.event()` validates `data` with the published model. It uses its own consumer group (the services'
offsets are untouched), commits automatically (a monitor may count a record twice after a crash; payments
themselves never depend on it), and starts at the end of the topic unless `--from-beginning`. Kafka and the
topic namespace come from `KAFKA_BOOTSTRAP_SERVERS` and `KAFKA_TOPIC_PREFIX` as for the services.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer

from contracts.envelope import type_from_headers
from contracts.topics import PAYMENTS_EVENTS
from tools.payment_summary import PaymentSummary


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.watch_payments", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    parser.add_argument("--group", default="payments-watch", help="consumer group (prefixed like the topic)")
    parser.add_argument("--from-beginning", action="store_true", help="read the topic's history first")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two summary lines")
    parser.add_argument("--window", type=float, default=10.0, help="seconds the authorization rate covers")
    parser.add_argument("--max-records", type=int, default=None, help="stop after this many records (scripts)")
    return parser.parse_args(list(argv))


async def watch(args: argparse.Namespace) -> PaymentSummary:
    summary = PaymentSummary(window=timedelta(seconds=args.window))
    consumer = AIOKafkaConsumer(
        f"{args.topic_prefix}{PAYMENTS_EVENTS}", bootstrap_servers=args.bootstrap_servers.split(","),
        group_id=f"{args.topic_prefix}{args.group}", enable_auto_commit=True,
        auto_offset_reset="earliest" if args.from_beginning else "latest")
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await consumer.start()
    try:
        seen, next_line = 0, asyncio.get_running_loop().time() + args.interval
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=int(min(args.interval, 1.0) * 1000), max_records=500)
            for records in batches.values():
                for record in records:
                    summary.add(record.value, type_from_headers(record.headers))
                    seen += 1
            if args.max_records is not None and seen >= args.max_records:
                break
            if asyncio.get_running_loop().time() >= next_line:
                print(summary.render(datetime.now(UTC)), flush=True)
                next_line += args.interval
    finally:
        await consumer.stop()
    print(summary.render(datetime.now(UTC)), flush=True)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(watch(parse(sys.argv[1:] if argv is None else argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
