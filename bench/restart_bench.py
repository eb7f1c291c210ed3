"""Time to healthy and to the first record processed after `kill -9` (issue 17), phase by phase.

Runs one payment worker (`python -m services.payment worker`) against the broker and PostgreSQL the benchmarks share
(bench/infra.py), kills it with SIGKILL, publishes one undecodable record to `orders.events` at once, starts it again
(cold, and from a warm standby as the supervisor does) and times from the kill: the runtime starting (interpreter and
imports done), the database ready (pool + migrations), the group's partitions assigned, the HTTP server listening, the
health check answering 200, and the record dead-lettered (the first record processed).

    python -m bench.restart_bench [--rounds 3] [--membership static|dynamic|both]

`static` runs the worker with a group instance id (KAFKA_GROUP_INSTANCE_ID, as the supervisor sets it), `dynamic`
without one (the restarted worker waits out the killed member's session).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.infra import ROOT, ensure_local_postgres, kafka_bootstrap
from delivery.kafka import make_broker
from delivery.settings import KafkaSettings
from deploy.local import run
from deploy.local.kafka import free_port
from deploy.local.topics import create_all
from tests.e2e.stack import drop_databases, fresh_databases
from tests.kafka_reading import read_topic

MARKERS = {"imports": "starting (imports done)", "database": "database ready", "listening": "Uvicorn running",
           "assigned": "partitions assigned"}


@dataclass(kw_only=True)
class Started:
    process: subprocess.Popen
    began: float
    seen: dict[str, float] = field(default_factory=dict)

    def follow(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            now = time.monotonic() - self.began
            for name, marker in MARKERS.items():
                if name not in self.seen and (marker is None or marker in line):
                    self.seen[name] = now


def start(command: list[str], env: dict[str, str], began: float, *, standby: subprocess.Popen | None) -> Started:
    if standby is not None:
        assert standby.stdin is not None
        standby.stdin.write("go\n")
        standby.stdin.flush()
        process = standby
    else:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    started = Started(process=process, began=began)
    threading.Thread(target=started.follow, daemon=True).start()
    return started


def spare(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([command[0], "-m", "deploy.local.standby", *command[2:]], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_imported(standby: subprocess.Popen, timeout: float = 300.0) -> None:
    """Until the standby's imports are done (on a loaded machine they take far longer than the supervisor's 5 s):
    the kill is timed from a warm standby, as the supervisor's restarts of a program that ran a while are."""
    assert standby.stdout is not None
    deadline = time.monotonic() + timeout
    for line in standby.stdout:
        if "imported, waiting" in line:
            return
        if time.monotonic() > deadline:
            break
    raise TimeoutError("the standby never finished its imports")


def wait_healthy(url: str, began: float, timeout: float = 120.0) -> float:
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() - began < timeout:
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return time.monotonic() - began
            time.sleep(0.02)
    raise TimeoutError(f"{url} not healthy within {timeout}s")


async def publish_garbage(kafka: KafkaSettings) -> None:
    broker = make_broker(kafka, client_id="restart-bench")
    await broker.connect()
    try:
        await broker.publish(b"\x00not an order", kafka.topic("orders.events"), key=b"restart-bench")
    finally:
        await broker.stop()


async def dead_lettered(kafka: KafkaSettings, count: int) -> None:
    await read_topic(kafka, kafka.topic("orders.events.dlq"), at_least=count, timeout=120)


def one_round(*, command: list[str], env: dict[str, str], health: str, kafka: KafkaSettings, round_no: int,
              standby: bool) -> dict[str, float]:
    began = time.monotonic()
    first = start(command, env, began, standby=None)
    wait_healthy(health, began)
    warm = spare(command, env) if standby else None
    if warm is not None:
        wait_imported(warm)
    time.sleep(2.0)  # the member has settled in the group
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait()
    killed = time.monotonic()
    asyncio.run(publish_garbage(kafka))
    again = start(command, env, killed, standby=warm)
    figures = {"healthy": wait_healthy(health, killed)}
    asyncio.run(dead_lettered(kafka, round_no))
    figures["first_record"] = time.monotonic() - killed
    figures.update(again.seen)
    os.killpg(again.process.pid, signal.SIGTERM)
    again.process.wait(60)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restart_bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--membership", choices=["static", "dynamic", "both"], default="static")
    parser.add_argument("--cold", action="store_true", help="also restart without the warm standby")
    args = parser.parse_args(argv)
    admin = os.environ.get("DATABASE_URL") or asyncio.run(ensure_local_postgres())

    async def bootstrap() -> str:
        async with kafka_bootstrap() as servers:
            return servers

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or asyncio.run(bootstrap())
    memberships = ["static", "dynamic"] if args.membership == "both" else [args.membership]
    for membership, standby in [(m, s) for m in memberships for s in ((False, True) if args.cold else (True,))]:
        prefix = f"rb{uuid.uuid4().hex[:6]}_"
        kafka = KafkaSettings(bootstrap_servers=servers, topic_prefix=prefix)
        asyncio.run(create_all(kafka))
        databases = asyncio.run(fresh_databases(admin, prefix.rstrip("_")))
        port = free_port()
        env = run.local_env({**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers, "KAFKA_TOPIC_PREFIX": prefix,
                             "PAYMENT_DATABASE_URL": databases["payment"], "PYTHONUNBUFFERED": "1"})
        env.pop("KAFKA_GROUP_INSTANCE_ID", None)
        if membership == "static":
            env["KAFKA_GROUP_INSTANCE_ID"] = "payment-worker-1"
        command = [sys.executable, "-m", "services.payment", "worker", "--http-port", str(port)]
        try:
            for round_no in range(1, args.rounds + 1):
                figures = one_round(command=command, env=env, health=f"http://127.0.0.1:{port}/health",
                                    kafka=kafka, round_no=round_no, standby=standby)
                print(f"{membership:<7} standby={standby!s:<5} round {round_no}: "
                      + ", ".join(f"{k} {v:.2f}s" for k, v in sorted(figures.items(), key=lambda kv: kv[1])),
                      flush=True)
        finally:
            asyncio.run(drop_databases(admin, databases))
    print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
