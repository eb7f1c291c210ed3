"""Which requests the services make of the Kafka broker: per order under load and per second while idle, by API
key and by client, counted by the broker itself (its request log, `kafka.request.logger` at DEBUG).

    .venv/bin/python bench/kafka_requests.py [--orders 300] [--concurrency 64] [--idle 20]

Starts a private broker whose request log is on (every completed request is one line, so its CPU here is not the
figure to compare: `bench/checkout_bench.py` and `bench/idle_cost.py` measure that on a broker without it), runs
the `make run` runner on fresh databases, warms it, counts what the idle stack asks for `--idle` seconds, then
what one round of `--orders` orders (0 ms gateway latency) asks per order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.system_cost import CLOCK_TICKS
from bench.warm_stack import warm_stack
from deploy.local.kafka import LocalKafka, build_libs

API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
             10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
             15: "DescribeGroups", 16: "ListGroups", 18: "ApiVersions", 19: "CreateTopics", 22: "InitProducerId",
             32: "DescribeConfigs", 60: "DescribeCluster"}
LINE = re.compile(r'Completed request:(\{.*)')


class LoggedKafka(LocalKafka):
    """A broker that logs every completed request (header: API key, client id) to its server.out."""

    def _write_config(self, *, keep: bool = False) -> Path:
        props = super()._write_config(keep=keep)
        log4j = self.work / "log4j2.properties"
        log4j.write_text(log4j.read_text().replace("logger.request.level = WARN", "logger.request.level = DEBUG"))
        return props


def clients_of(client_id: str) -> str:
    """A client id without its per-instance parts (aiokafka's `aiokafka-0.14.0` / `<group>-consumer`)."""
    return re.sub(r"[0-9a-f]{6,}", "*", client_id)


def count(log: Path, start: int) -> tuple[Counter[tuple[str, str]], int]:
    """Requests completed in `log` after byte `start`, by (API, client); and where the log ends now."""
    found: Counter[tuple[str, str]] = Counter()
    with log.open("rb") as f:
        f.seek(start)
        data = f.read()
    for raw in data.decode(errors="replace").splitlines():
        match = LINE.search(raw)
        if not match:
            continue
        try:
            header = json.JSONDecoder().raw_decode(match.group(1))[0]["requestHeader"]
        except (ValueError, KeyError):
            continue
        api = API_NAMES.get(header["requestApiKey"], f"api{header['requestApiKey']}")
        found[(api, clients_of(header.get("clientId") or ""))] += 1
    return found, start + len(data)


def thread_ticks(pid: int) -> Counter[str]:
    """CPU ticks so far of each thread of `pid`, summed by thread name with digits folded (`C1 CompilerThre#`)."""
    ticks: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = re.sub(r"[0-9]+", "#", stat[stat.index("(") + 1:stat.rindex(")")])
        fields = stat.rsplit(")", 1)[1].split()
        ticks[name] += int(fields[11]) + int(fields[12])
    return ticks


def report_threads(before: Counter[str], after: Counter[str], *, per: float, unit: str) -> str:
    spent = {name: (after[name] - before.get(name, 0)) * 1000 / CLOCK_TICKS / per for name in after}
    top = sorted(spent.items(), key=lambda item: -item[1])
    return (f"  broker core-ms per {unit}: {sum(spent.values()):.2f}; by thread: "
            + ", ".join(f"{name} {ms:.2f}" for name, ms in top if ms >= 0.01))


def report(found: Counter[tuple[str, str]], per: float, unit: str) -> str:
    by_api: Counter[str] = Counter()
    for (api, _), n in found.items():
        by_api[api] += n
    lines = [f"  all requests: {sum(found.values()) / per:.2f} per {unit}; by API: "
             + ", ".join(f"{api} {n / per:.2f}" for api, n in by_api.most_common())]
    lines += [f"    {api:<16} {client:<40} {n / per:8.2f}" for (api, client), n in found.most_common()]
    return "\n".join(lines)


async def main(args: argparse.Namespace, kafka: LocalKafka) -> None:
    from bench.checkout_bench import mails_per_order, run_round

    async with warm_stack(name="kreq", bootstrap=kafka.bootstrap, warm_orders=args.warmup) as warm:
        per_order = await mails_per_order(warm.shop, args.warmup)
        await asyncio.sleep(args.settle)
        pid = kafka.running_pid()
        assert pid is not None
        mark, threads = kafka.log_file.stat().st_size, thread_ticks(pid)
        began = time.perf_counter()
        await asyncio.sleep(args.idle)
        idle, mark = count(kafka.log_file, mark)
        wall = time.perf_counter() - began
        print(f"idle stack, {wall:.1f} s; load average {os.getloadavg()[0]:.2f}:", flush=True)
        print(report(idle, wall, "second"), flush=True)
        print(report_threads(threads, thread_ticks(pid), per=wall, unit="second"), flush=True)
        args.latencies = [0]
        await warm.shop.http.post(f"{warm.stack.urls['emulator']}/_emulator/reset")
        mark, threads = kafka.log_file.stat().st_size, thread_ticks(pid)
        perf = await asyncio.create_subprocess_exec(
            "perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", args.perf,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL) if args.perf else None
        began = time.perf_counter()
        await run_round(warm.shop, warm.scope, args=args, latency_ms=0, per_order=per_order)
        loaded, _ = count(kafka.log_file, mark)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            await perf.wait()
            jcmd = await asyncio.create_subprocess_exec("jcmd", str(pid), "Compiler.perfmap",  # names of JIT frames
                                                        stdout=asyncio.subprocess.DEVNULL)
            await jcmd.wait()
        print(f"{args.orders} orders in {time.perf_counter() - began:.1f} s (requests include the round's idle "
              f"seconds); load average {os.getloadavg()[0]:.2f}:", flush=True)
        print(report(loaded, args.orders, "order"), flush=True)
        print(report_threads(threads, thread_ticks(pid), per=args.orders, unit="order"), flush=True)
        await warm.shop.http.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--no-request-log", action="store_true", help="a broker without the request log (no counts: "
                        "its CPU by thread only)")
    parser.add_argument("--perf", help="record the broker's round with `perf record -g` into this file (and "
                        "/tmp/perf-<pid>.map names its JIT-compiled frames for `perf report`)")
    cli = parser.parse_args()
    cli.past_orders = 0
    subprocess.run([str(Path(__file__).resolve().parents[1] / "deploy/local/postgres.sh"), "ensure"], check=True)
    build_libs()
    broker = LocalKafka() if cli.no_request_log else LoggedKafka()
    broker.start()
    try:
        asyncio.run(main(cli, broker))
    finally:
        broker.stop()
