"""The floor: what bare aiokafka moves on this machine through as many hops as an order takes, with the
services' producer settings (idempotent, acks=all, linger 2 ms; consumers commit manually).

    .venv/bin/python bench/relay_floor_bench.py [--records 20000] [--hops 4] [--size 1200]

A source process publishes N records of `--size` bytes to topic 0; `--hops` relay processes each consume topic i
(their own group, manual commits every 200 ms) and publish every record to topic i+1; a sink consumes the last
topic. The clock runs from the first publish to the sink's N-th record. Prints records/s end to end and the
core-ms per record of the relays, the source and sink, and the broker (/proc; the shared broker's CPU includes
whatever else uses it meanwhile), with the machine's load. Compare with `make bench-checkout`: an order is ~5
records through the same broker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.system_cost import cpu_seconds, listening_pid, machine_jiffies
from tests.e2e.stack import run_benchmark

PARTITIONS = 6
SELF = Path(__file__).resolve()


def producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=2)


async def relay(bootstrap: str, source: str, *, target: str | None, count: int) -> None:
    """Consume `source`; publish each record to `target` (or, as the sink, count to `count` and exit)."""
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"{source}-relay",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    out = producer(bootstrap) if target else None
    await consumer.start()
    if out:
        await out.start()
    seen, last_commit = 0, time.monotonic()
    try:
        while not consumer.assignment():  # joined the group: nothing published yet, so nothing is skipped
            await consumer.getmany(timeout_ms=100)
        print("READY", flush=True)
        while target or seen < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            sends = []
            for records in batches.values():
                for record in records:
                    seen += 1
                    if out and target:
                        sends.append(await out.send(target, record.value, key=record.key))
            if sends:
                await asyncio.gather(*sends)
            if time.monotonic() - last_commit > 0.2:
                await consumer.commit()
                last_commit = time.monotonic()
        await consumer.commit()
        print(f"SINK-DONE {time.time():.6f}", flush=True)
    finally:
        await consumer.stop()
        if out:
            await out.stop()


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    run = uuid.uuid4().hex[:6]
    topics = [f"floor{run}.t{i}" for i in range(args.hops + 1)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics])
    finally:
        await admin.close()
    me = [sys.executable, str(SELF), "--bootstrap", bootstrap, "--records", str(args.records)]
    procs = [await asyncio.create_subprocess_exec(*me, "--relay", topics[i], topics[i + 1] if i < args.hops else "",
                                                  stdout=asyncio.subprocess.PIPE)
             for i in range(args.hops + 1)]
    broker = listening_pid(int(bootstrap.rsplit(":", 1)[1]))
    for proc in procs:  # every relay joined its group
        assert proc.stdout is not None
        async with asyncio.timeout(120):
            await proc.stdout.readline()
    pids = {f"hop{i}": p.pid for i, p in enumerate(procs)} | ({"kafka": broker} if broker else {})
    before = {k: cpu_seconds(v) or 0.0 for k, v in pids.items()}
    own_before, jiffies = cpu_seconds(os.getpid()) or 0.0, machine_jiffies()
    began = time.time()
    out = producer(bootstrap)
    await out.start()
    payload = os.urandom(args.size // 2).hex().encode()
    sends = [await out.send(topics[0], payload, key=str(n).encode()) for n in range(args.records)]
    await asyncio.gather(*sends)
    await out.stop()
    sink = procs[-1]
    assert sink.stdout is not None
    async with asyncio.timeout(600):
        line = (await sink.stdout.readline()).decode()
    wall = float(line.split()[1]) - began
    after = {k: cpu_seconds(v) or 0.0 for k, v in pids.items()}
    spent = {k: (after[k] - before[k]) * 1000 / args.records for k in pids}
    spent["source (this process)"] = ((cpu_seconds(os.getpid()) or 0.0) - own_before) * 1000 / args.records
    now = machine_jiffies()
    busy = (now[0] - jiffies[0]) / max(now[1] - jiffies[1], 1)
    relays = sum(v for k, v in spent.items() if k.startswith("hop") and k != f"hop{args.hops}")
    print(f"relay floor: {args.records} records of {args.size} bytes through {args.hops} relays ({args.hops + 1} "
          f"topics, idempotent, acks=all, linger 2 ms) in {wall:.1f} s = {args.records / wall:.0f} records/s",
          flush=True)
    print(f"  core-ms per record: relays {relays:.3f} ({relays / args.hops:.3f} per hop), sink "
          f"{spent[f'hop{args.hops}']:.3f}, source {spent['source (this process)']:.3f}, kafka broker "
          f"{spent.get('kafka', 0.0):.3f}; machine {busy:.0%} busy, load average {os.getloadavg()[0]:.2f}", flush=True)
    for proc in procs[:-1]:
        proc.terminate()
    for proc in procs:
        await proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--hops", type=int, default=4)
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument("--relay", nargs=2, metavar=("SOURCE", "TARGET"))
    parser.add_argument("--bootstrap")
    cli = parser.parse_args()
    if cli.relay:
        asyncio.run(relay(cli.bootstrap, cli.relay[0], target=cli.relay[1] or None, count=cli.records))
    else:
        run_benchmark(lambda bootstrap: main(cli, bootstrap))
