"""What a benchmark round costs the whole system, read from the outside: CPU of every process (/proc/<pid>/stat,
utime + stime of all threads), of this run's PostgreSQL backends and of the Kafka broker (the process listening
on the bootstrap port), PostgreSQL transactions committed (pg_stat_database) and Kafka records written (the end
offsets of this run's topics). `Snapshot.take()` before and after a round; `Snapshot.report()` prints per unit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# the processes the goal counts ("the system"); the rest (load client, SMTP sink, emulator) are apart
SYSTEM = ("checkout", "payment", "subscription", "notification", "postgres", "kafka")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads) so far, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(root: int) -> list[int]:
    """Every process below `root` (the runner's children: honcho's shells and the Python processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def named_processes(runner: int) -> dict[str, int]:
    """The runner's Python processes by role: services.<name>, emulator, smtp-sink (plus the runner itself)."""
    found = {"runner": runner}
    for pid in descendants(runner)[1:]:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if "-m" not in words or words[0].endswith("sh"):
            continue
        module = words[words.index("-m") + 1]
        name = {"emulator": "emulator", "deploy.local.smtp_sink": "smtp-sink"}.get(module, module.split(".")[-1])
        found[f"{name}:{pid}" if name in found else name] = pid  # several processes of a role (payment workers)
    return found


def listening_pid(port: int) -> int | None:
    """The process holding a listening TCP socket on `port` (the Kafka broker), from /proc/net/tcp{,6}."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot: the machine's load, whoever caused it."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Where to look: the runner's pid, the broker's pid, this run's databases and topic prefix."""

    runner: int
    broker: int | None
    pg_admin_url: str
    databases: dict[str, str]  # service -> url
    bootstrap: str
    topic_prefix: str

    @property
    def database_names(self) -> dict[str, str]:
        return {url.rsplit("/", 1)[1]: service for service, url in self.databases.items()}


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    cpu: dict[str, float]  # process role (or postgres:<pid>) -> CPU seconds
    commits: dict[str, int]  # service -> xact_commit of its database
    records: int  # Kafka records in this run's topics
    machine: tuple[int, int]

    @classmethod
    async def take(cls, scope: Scope) -> Snapshot:
        cpu = {name: cpu_seconds(pid) for name, pid in named_processes(scope.runner).items()}
        cpu["load client"] = cpu_seconds(os.getpid())
        if scope.broker is not None:
            cpu["kafka"] = cpu_seconds(scope.broker)
        conn = await asyncpg.connect(scope.pg_admin_url)
        try:
            names = scope.database_names
            backends = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])",
                                        list(names))
            rows = await conn.fetch("SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)",
                                    list(names))
        finally:
            await conn.close()
        cpu.update({f"postgres:{r['pid']}": cpu_seconds(r["pid"]) for r in backends})
        return cls(cpu={k: v for k, v in cpu.items() if v is not None},
                   commits={names[r["datname"]]: int(r["xact_commit"]) for r in rows},
                   records=await kafka_records(scope.bootstrap, scope.topic_prefix), machine=machine_jiffies())

    def report(self, before: Snapshot, *, count: int, wall: float, unit: str = "order") -> str:
        """CPU per process in core-ms per unit, the system total, commits and records per unit."""
        spent: dict[str, float] = {}
        for name, value in self.cpu.items():
            role = name.split(":", 1)[0]  # postgres:<pid>, payment:<pid> (a service's API and workers add up)
            spent[role] = spent.get(role, 0.0) + value - before.cpu.get(name, 0.0)
        per = {k: v * 1000 / count for k, v in spent.items()}
        system = sum(v for k, v in per.items() if k in SYSTEM)
        others = {k: v for k, v in per.items() if k not in SYSTEM}
        busy = (self.machine[0] - before.machine[0]) / max(self.machine[1] - before.machine[1], 1)
        ours = sum(spent.values()) / max(wall, 1e-9) / (os.cpu_count() or 1)
        commits = {k: (v - before.commits.get(k, 0)) / count for k, v in sorted(self.commits.items())}
        lines = [
            f"  core-ms per {unit}: system {system:.2f} = " + ", ".join(
                f"{k} {per.get(k, 0.0):.2f}" for k in SYSTEM) + "; besides: " + ", ".join(
                f"{k} {v:.2f}" for k, v in sorted(others.items(), key=lambda kv: -kv[1])),
            f"  PostgreSQL commits per {unit}: {sum(commits.values()):.1f} (" + ", ".join(
                f"{k} {v:.1f}" for k, v in commits.items()) + f"); Kafka records per {unit}: "
            f"{(self.records - before.records) / count:.2f}",
            f"  machine {busy:.0%} busy over the round ({os.cpu_count()} cores; this run's processes "
            f"{ours:.0%} of it); load average {os.getloadavg()[0]:.2f}",
        ]
        return "\n".join(lines)


async def kafka_records(bootstrap: str, prefix: str) -> int:
    """Records in every topic whose name starts with `prefix` (sum of end offsets; this run's topics are new)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
        described = await admin.describe_topics(topics) if topics else []
    finally:
        await admin.close()
    partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    if not partitions:
        return 0
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
