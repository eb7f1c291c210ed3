"""What the whole system costs while it does nothing: CPU per second of every process, PostgreSQL commits per
second, with the stack started as `make bench-checkout` starts it.

    .venv/bin/python bench/idle_cost.py [--seconds 30] [--settle 15]

Starts what is missing (PostgreSQL; a throw-away Kafka unless KAFKA_BOOTSTRAP_SERVERS is set), runs the
`make run` runner on fresh databases, places a few orders (so every consumer, pool and connection is warm), waits
`--settle` seconds, then reads /proc and pg_stat_database over `--seconds`. Whatever burns CPU while idle
(polling loops, health or lag probes, consumers' fetch long-polls, the broker's own timers) is paid per second
under load too: at 30 orders/s, 30 core-ms/s idle is 1 core-ms per order. A shared broker's CPU includes
whatever else uses it; the machine's load is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.system_cost import Snapshot
from bench.warm_stack import warm_stack
from tests.e2e.stack import run_benchmark

WARM_ORDERS = 10


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    async with warm_stack(name="idle", bootstrap=bootstrap, warm_orders=WARM_ORDERS) as warm:
        await warm.shop.http.aclose()
        await asyncio.sleep(args.settle)
        before = await Snapshot.take(warm.scope)
        began = time.perf_counter()
        await asyncio.sleep(args.seconds)
        after = await Snapshot.take(warm.scope)
        wall = time.perf_counter() - began
        print(f"idle for {wall:.1f} s after {WARM_ORDERS} orders; per second:", flush=True)
        print(after.report(before, count=wall, wall=wall, unit="second"), flush=True)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=15.0, help="wait this long after the warm-up orders")
    cli = parser.parse_args()
    run_benchmark(lambda bootstrap: main(cli, bootstrap))
