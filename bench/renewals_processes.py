"""The processes of the end-to-end renewals benchmark (bench/renewals_e2e.py) and what they cost: the emulator and
the services started as `make run` starts them (deploy.local.run.local_env) on this run's ports, databases and topic
prefix; CPU of each process (/proc/<pid>/stat), of this run's PostgreSQL backends, and of the whole machine; the
database work (pg_stat_database)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from delivery.settings import KafkaSettings
from deploy.local.kafka import free_port
from deploy.local.run import local_env
from deploy.local.topics import create_all
from tests.e2e.stack import PG

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, kw_only=True)
class System:
    """The running processes (name -> pid), their URLs, and the Kafka settings they share."""

    pids: dict[str, int]
    urls: dict[str, str]
    env: dict[str, str]
    databases: dict[str, str]
    kafka: KafkaSettings
    log_path: Path


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """utime + stime of each process (all its threads), from /proc/<pid>/stat (one that is gone is left out)."""
    found = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot (/proc/stat): the machine's load, whoever caused it."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


async def database_backends(databases: dict[str, str]) -> dict[str, int]:
    """PostgreSQL backend pids serving this run's databases (their CPU is part of each renewal's cost)."""
    conn = await asyncpg.connect(PG)
    try:
        rows = await conn.fetch("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                                [url.rsplit("/", 1)[1] for url in databases.values()])
    finally:
        await conn.close()
    return {f"postgres:{r['datname']}:{r['pid']}": r["pid"] for r in rows}


async def database_work(databases: dict[str, str]) -> dict[str, tuple[int, int]]:
    """service -> (transactions committed, rows written) in its database so far (pg_stat_database)."""
    names = {url.rsplit("/", 1)[1]: service for service, url in databases.items()}
    conn = await asyncpg.connect(PG)
    try:
        rows = await conn.fetch("SELECT datname, xact_commit, tup_inserted + tup_updated + tup_deleted AS written "
                                "FROM pg_stat_database WHERE datname = ANY($1::text[])", list(names))
    finally:
        await conn.close()
    return {names[r["datname"]]: (int(r["xact_commit"]), int(r["written"])) for r in rows}


def report_database_work(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], count: int) -> None:
    parts = [f"{name} {(after[name][0] - old[0]) / count:.1f} transactions and {(after[name][1] - old[1]) / count:.1f}"
             f" rows written" for name, old in sorted(before.items()) if after[name][0] > old[0]]
    print(f"database work per renewal: {'; '.join(parts)}", flush=True)


def environment(bootstrap: str, databases: dict[str, str], *, names: list[str],
                extra: dict[str, str]) -> dict[str, str]:
    """What `make run` gives the processes (deploy.local.run.local_env), on this run's ports, databases, prefix."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_HTTP_PORT"))}
    env.update({f"{name.upper()}_HTTP_PORT": str(free_port()) for name in names})
    env.update({f"{name.upper()}_DATABASE_URL": url for name, url in databases.items()})
    env.update(DATABASE_URL=PG, KAFKA_BOOTSTRAP_SERVERS=bootstrap, KAFKA_TOPIC_PREFIX=f"rbench{os.getpid()}.",
               ESCOTT_EMULATOR_PORT=str(free_port()), SMTP_SINK_PORT=str(free_port()),
               SMTP_SINK_HTTP_PORT=str(free_port()), SMTP_SINK_MAILDIR=str(ROOT / ".cache" / "renewals-bench-mail"))
    env.update({f"{name.upper()}_LOG_LEVEL": "WARNING" for name in names})
    env.update(extra)
    return local_env(env)


def commands(env: dict[str, str], names: list[str]) -> dict[str, tuple[list[str], str]]:
    """name -> (command, health URL) of every process to start."""
    py = sys.executable
    found = {"emulator": ([py, "-m", "emulator", "--host", "127.0.0.1", "--port", env["ESCOTT_EMULATOR_PORT"]],
                          f"http://127.0.0.1:{env['ESCOTT_EMULATOR_PORT']}/_emulator/health")}
    if "notification" in names:
        found["smtp-sink"] = ([py, "-m", "deploy.local.smtp_sink", "--host", "127.0.0.1", "--smtp-port",
                               env["SMTP_SINK_PORT"], "--http-port", env["SMTP_SINK_HTTP_PORT"], "--maildir",
                               env["SMTP_SINK_MAILDIR"]], f"http://127.0.0.1:{env['SMTP_SINK_HTTP_PORT']}/health")
    for name in names:
        port = env[f"{name.upper()}_HTTP_PORT"]
        found[name] = ([py, "-m", f"services.{name}"], f"http://127.0.0.1:{port}/health")
    return found


@asynccontextmanager
async def launched(bootstrap: str, databases: dict[str, str], args: argparse.Namespace) -> AsyncIterator[System]:
    names = ["checkout", "payment", "subscription"] + (["notification"] if args.with_notification else [])
    env = environment(bootstrap, databases, names=names, extra=dict(kv.split("=", 1) for kv in args.set))
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=env["KAFKA_TOPIC_PREFIX"])
    await create_all(kafka)
    log_path = ROOT / ".cache" / "renewals-e2e-bench.log"
    log = open(log_path, "w")  # noqa: SIM115, ASYNC230 - once, shared by the children
    procs: dict[str, asyncio.subprocess.Process] = {}
    try:
        for name, (command, _) in commands(env, names).items():
            procs[name] = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env, stdout=log, stderr=log)
        urls = {name: health.rsplit("/", 1)[0].replace("/_emulator", "") for name, (_, health) in
                commands(env, names).items()}
        await healthy({name: health for name, (_, health) in commands(env, names).items()}, procs)
        yield System(pids={n: p.pid for n, p in procs.items()}, urls=urls, env=env, databases=databases,
                     kafka=kafka, log_path=log_path)
    finally:
        for proc in procs.values():
            with suppress(ProcessLookupError):
                proc.terminate()
        for proc in procs.values():
            async with asyncio.timeout(30):
                await proc.wait()
        log.close()


async def healthy(urls: dict[str, str], procs: dict[str, asyncio.subprocess.Process], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    async with httpx.AsyncClient(timeout=2) as http:
        while pending:
            for name, url in list(pending.items()):
                if procs[name].returncode is not None:
                    raise SystemExit(f"{name} exited with {procs[name].returncode} (see .cache/renewals-e2e-bench.log)")
                with suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        del pending[name]
            if time.monotonic() > deadline:
                raise SystemExit(f"not healthy within {timeout:.0f}s: {sorted(pending)}")
            await asyncio.sleep(0.2)


@dataclass(kw_only=True)
class Usage:
    """CPU seconds of this run's processes and database backends, and the machine's busy/total jiffies."""

    processes: dict[str, float]
    backends: dict[str, float]
    machine: tuple[float, float]

    @classmethod
    def now(cls, system: System, backends: dict[str, int]) -> Usage:
        return cls(processes=cpu_seconds(system.pids), backends=cpu_seconds(backends), machine=machine_busy())

    def since(self, before: Usage, *, count: int, wall: float) -> str:
        services = {k: v - before.processes.get(k, 0.0) for k, v in self.processes.items()
                    if k not in ("emulator", "smtp-sink")}
        emulator = self.processes.get("emulator", 0.0) - before.processes.get("emulator", 0.0)
        database = sum(v - before.backends.get(k, 0.0) for k, v in self.backends.items())
        busy = (self.machine[0] - before.machine[0]) / max(self.machine[1] - before.machine[1], 1)
        total = sum(services.values())
        return (f"CPU during renewals (utime+stime, s): {_fmt(services)}; services {total:.1f} core-s = "
                f"{total * 1000 / count:.2f} core-ms per renewal ({total / wall:.2f} cores busy); besides: "
                f"PostgreSQL backends of these databases {database:.1f} s ({database * 1000 / count:.2f} ms per "
                f"renewal), emulator {emulator:.1f} s; whole machine {busy:.0%} busy ({os.cpu_count()} cores)")


def _fmt(cpu: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
