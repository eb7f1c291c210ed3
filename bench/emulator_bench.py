"""Benchmark of the e-SCOTT emulator (``make bench-emulator``): is it ever the bottleneck?

1. Throughput: 1Auth/s at zero latency, the emulator pinned to CPU 0 (``taskset -c 0``) and this load
   generator pinned to CPU 1, over keep-alive connections with a minimal raw-socket HTTP/1.1 client
   (an HTTP library would measure itself, not the emulator).
2. Concurrency: N simultaneous 1Auth requests, each on its own connection, with 200 ms injected latency;
   reports wall time and the emulator's max-in-flight counter.

Loopback only; bounded in requests and seconds; stops the emulator it started. Exit status 1 when a
target (``--min-rps``, all concurrent requests OK within ``--max-wall``) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BODY = ("MerchantId=10000001&MerchantPass=escottpass01&TransactionDate=20250101&OperateId=1Auth"
        "&TenantId=0001&CardNo=4111111111111111&CardExp=3012&PayType=01&Amount=1000&MerchantFree1={n}")
PATH = "/online/aut/OAUT002.do"


def request_bytes(n: int) -> bytes:
    """One complete keep-alive POST of a 1Auth."""
    body = BODY.format(n=n).encode()
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    """Read one response (headers + Content-Length body) and return its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if not head.startswith(b"HTTP/1.1 200") or match is None:
        raise RuntimeError(f"unexpected response head {head[:80]!r}")
    return await reader.readexactly(int(match.group(1)))


@dataclass
class Tally:
    """Shared counters of the throughput workers."""

    ok: int = 0
    failed: int = 0


async def worker(port: int, *, deadline: float, budget: int, tally: Tally) -> None:
    """Send 1Auth requests back to back on one connection until the deadline or the budget."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline and tally.ok + tally.failed < budget:
            writer.write(request_bytes(tally.ok + tally.failed))
            body = await read_reply(reader)
            if b"ResponseCd=OK" in body:
                tally.ok += 1
            else:
                tally.failed += 1
    finally:
        writer.close()


async def throughput(port: int, *, connections: int, seconds: float, budget: int) -> tuple[float, Tally]:
    """Requests per second over ``connections`` keep-alive connections."""
    tally = Tally()
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker(port, deadline=deadline, budget=budget, tally=tally) for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return (tally.ok + tally.failed) / elapsed, tally


async def one_shot(port: int, n: int) -> bool:
    """A single 1Auth on a fresh connection; True when answered OK."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_bytes(n))
        return b"ResponseCd=OK" in await read_reply(reader)
    finally:
        writer.close()


async def concurrency(url: str, port: int, *, count: int, latency_ms: float) -> tuple[float, int, int]:
    """(wall seconds, OK count, emulator max in flight) for ``count`` simultaneous requests."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as admin:
        await admin.post("/_emulator/reset")
        plan = {"seed": 1, "operations": {"1Auth": {"latency_ms": latency_ms}}}
        (await admin.put("/_emulator/faults", json=plan)).raise_for_status()
        start = time.perf_counter()
        async with asyncio.timeout(60):
            results = await asyncio.gather(*(one_shot(port, n) for n in range(count)))
        wall = time.perf_counter() - start
        stats = (await admin.get("/_emulator/stats")).json()
        await admin.delete("/_emulator/faults")
    return wall, sum(results), stats["max_in_flight"]


def start_emulator(cpu: int | None) -> tuple[subprocess.Popen[str], int]:
    """Start ``python -m emulator`` on a free port (pinned to ``cpu``); wait for its banner (bounded)."""
    command = [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", "0", "--seed", "1"]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return proc, int(match.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("emulator did not start")


async def run(args: argparse.Namespace) -> int:
    """Run both measurements against a fresh emulator process and print the figures."""
    two_cores = (os.cpu_count() or 1) >= 2
    proc, port = start_emulator(0 if two_cores else None)
    if two_cores:
        os.sched_setaffinity(0, {1})
    url = f"http://127.0.0.1:{port}"
    try:
        await throughput(port, connections=4, seconds=1.0, budget=2_000)  # warm-up
        rps, tally = await throughput(port, connections=args.connections, seconds=args.seconds,
                                       budget=args.max_requests)
        print(f"throughput: {rps:,.0f} 1Auth/s at 0 ms latency (emulator on 1 core; {tally.ok} OK, "
              f"{tally.failed} not OK, {args.connections} keep-alive connections, {args.seconds:.0f} s)")
        wall, ok, max_in_flight = await concurrency(url, port, count=args.concurrent, latency_ms=args.latency_ms)
        print(f"concurrency: {ok}/{args.concurrent} concurrent 1Auth OK at {args.latency_ms:.0f} ms latency "
              f"in {wall:.2f} s wall (emulator max in flight {max_in_flight})")
    finally:
        proc.terminate()
        proc.wait(10)
    passed = rps >= args.min_rps and tally.failed == 0 and ok == args.concurrent and wall <= args.max_wall
    print("result:", "PASS" if passed else "FAIL")
    return 0 if passed else 1


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--concurrent", type=int, default=3_000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--min-rps", type=float, default=2_000.0)
    parser.add_argument("--max-wall", type=float, default=10.0)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
