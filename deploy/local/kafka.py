"""A real single-node Apache Kafka (KRaft) assembled from Maven Central and started with `java -cp`.

Used three ways: `make run` (fixed ports, data kept in .cache/kafka/run), the test fixtures (a throw-away
broker on free ports), and the CLI below. Only the process we started is ever signalled (pid file), never
"every kafka.Kafka on the host" as kafka-server-stop.sh does.

    python -m deploy.local.kafka build            # jars into .cache/kafka/libs (idempotent)
    python -m deploy.local.kafka start|stop|status [--dir DIR] [--port 9092]
    python -m deploy.local.kafka restart [--dir DIR]  # same data, ports and cluster id (records, offsets kept)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from deploy.local.kafka_config import JVM_BROKER, JVM_LOCAL_JIT, JVM_TOOL, LOG4J2_PROPERTIES, SERVER_PROPERTIES
from deploy.local.orphan_guard import OrphanGuard

ROOT = Path(__file__).resolve().parents[2]
POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
CACHE = ROOT / ".cache" / "kafka"
LIBS = CACHE / "libs"
RUN_DIR = CACHE / "run"


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now, for a server started a moment later (local stack, tests).

    Drawn below the kernel's ephemeral range: a port from `bind(0)` comes from that range, and any outgoing
    connection (a Kafka client, a database pool) may take it before our server binds it, which once failed
    a service's start with `address already in use`. Ports handed out before are not handed out again.
    """
    low = _ephemeral_low()
    for _ in range(1000):
        port = random.randrange(max(1024, low - 12_000), low)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def new_cluster_id() -> str:
    """Same shape as `StorageTool random-uuid`: URL-safe base64 of 16 random bytes, unpadded, and (like
    Kafka's `Uuid.randomUuid`) never starting with `-`, which the format command would read as an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def build_libs(libs: Path = LIBS) -> Path:
    """Copy the broker's runtime jars from Maven Central, unless the pom is unchanged since the last build."""
    stamp = libs / ".pom-sha256"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return libs
    shutil.rmtree(libs, ignore_errors=True)
    subprocess.run(
        ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(POM), "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={libs}"],
        check=True,
    )
    stamp.write_text(digest)
    return libs


async def wait_for_kafka(bootstrap: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    """Ready means the broker answers a real admin request, not merely that its port accepts connections."""
    from aiokafka.admin import AIOKafkaAdminClient

    quiet = logging.getLogger("aiokafka")  # refused connections while the broker boots are expected noise
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        await _probe_until_ready(AIOKafkaAdminClient, bootstrap, timeout=timeout, proc=proc)
    finally:
        quiet.setLevel(level)


async def _probe_until_ready(admin_class, bootstrap: str, *, timeout: float, proc: subprocess.Popen | None) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Kafka exited early with code {proc.returncode}")
        admin = admin_class(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            async with asyncio.timeout(20):
                await admin.start()
                info = await admin.describe_cluster()
            if info.get("brokers"):
                return
        except Exception as exc:  # any failure means "not yet"; the last one is reported on timeout
            last = exc
        finally:
            with contextlib.suppress(Exception):  # closing a half-started client may fail; nothing to do
                await admin.close()
        await asyncio.sleep(0.3)
    raise TimeoutError(f"Kafka at {bootstrap} not ready after {timeout}s: {last!r}")


class LocalKafka:
    """One broker process in `work_dir` (config, data, logs, pid file)."""

    def __init__(self, work_dir: Path | None = None, port: int | None = None, libs: Path = LIBS,
                 guard: OrphanGuard | None = None):
        self.guard = guard  # the broker dies with the guard's owner (make run, the chaos run)
        self.work = Path(work_dir or tempfile.mkdtemp(prefix="kafka-local-"))
        self.libs = libs
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.pid_file = self.work / "kafka.pid"
        self.log_file = self.work / "logs" / "server.out"
        self.proc: subprocess.Popen | None = None

    def _write_config(self, *, keep: bool = False) -> Path:
        """The broker's config; `keep` reuses the one written before (same ports: the KRaft quorum state in the
        kept data directory names the controller's address, so a restart that keeps data keeps the ports)."""
        props = self.work / "server.properties"
        if keep and props.exists():
            return props
        cport = free_port()
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        props.write_text(SERVER_PROPERTIES.format(port=self.port, cport=cport, data=self.work / "data"))
        for name, level in (("log4j2.properties", "WARN"), ("tools-log4j2.properties", "WARN")):
            (self.work / name).write_text(LOG4J2_PROPERTIES.format(level=level))
        return props

    def _java(self, jvm: list[str], log4j: str, main: str, *args: str) -> list[str]:
        return ["java", *jvm, f"-Dlog4j2.configurationFile={self.work / log4j}",
                f"-Dkafka.logs.dir={self.work / 'logs'}", "-cp", f"{self.libs}/*", main, *args]

    def _format(self, props: Path) -> None:
        # A fresh data dir per start: the controller port changes, and a stale quorum state would not match it.
        shutil.rmtree(self.work / "data", ignore_errors=True)
        subprocess.run(
            self._java(JVM_TOOL, "tools-log4j2.properties", "kafka.tools.StorageTool", "format",
                       "--cluster-id", new_cluster_id(), "--config", str(props)),
            check=True, capture_output=True, text=True, timeout=120,
        )

    def start(self, timeout: float = 90.0, *, keep_data: bool = False) -> str:
        """Format, launch and wait until the broker answers. Returns the bootstrap address.

        `keep_data` starts on the data directory and config of the previous start (a broker restart: topics,
        records and committed offsets survive); without an earlier start it formats as usual."""
        if self.running_pid():
            raise RuntimeError(f"a broker we started is already running (pid file {self.pid_file})")
        kept = keep_data and (self.work / "data" / "meta.properties").exists()
        props = self._write_config(keep=kept)
        if not kept:
            self._format(props)
        out = open(self.log_file, "ab")  # noqa: SIM115 - the broker keeps writing after this function returns
        self.proc = subprocess.Popen(
            self._java([*JVM_BROKER, *JVM_LOCAL_JIT], "log4j2.properties", "kafka.Kafka", str(props)),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        out.close()
        if self.guard is not None:
            self.guard.process(self.proc.pid)
        self.pid_file.write_text(str(self.proc.pid))
        try:
            asyncio.run(wait_for_kafka(self.bootstrap, timeout, self.proc))
        except BaseException:
            self.stop()
            raise
        return self.bootstrap

    def running_pid(self) -> int | None:
        """The pid from our pid file, if that process is alive and is a Kafka broker."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"kafka.Kafka" in cmdline else None

    def restart(self, timeout: float = 90.0, *, hard: bool = False) -> str:
        """Stop (SIGKILL when `hard`: a crash) and start again on the same data, ports and cluster id."""
        self.stop(timeout=0.0 if hard else 30.0)
        return self.start(timeout, keep_data=True)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM runs Kafka's shutdown hook (controlled shutdown); SIGKILL only after `timeout` (at once if 0)."""
        # Our own child first: right after Popen its /proc cmdline may not show kafka.Kafka yet (before exec).
        pid = self.proc.pid if self.proc is not None and self.proc.poll() is None else self.running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM if timeout > 0 else signal.SIGKILL)
            if not _wait_gone(pid, self.proc, timeout):
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, self.proc, 10)
            if self.guard is not None:
                self.guard.forget(pid)
        self.pid_file.unlink(missing_ok=True)


def _wait_gone(pid: int, proc: subprocess.Popen | None, timeout: float) -> bool:
    if proc is not None:
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "zombie" in _proc_state(pid):
            return True
        time.sleep(0.1)
    return False


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.kafka", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "start", "stop", "restart", "status"])
    parser.add_argument("--dir", type=Path, default=RUN_DIR)
    parser.add_argument("--port", type=int, default=int(os.environ.get("KAFKA_PORT", "9092")))
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build_libs())
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    broker = LocalKafka(args.dir, port=args.port)
    if args.command == "start":
        build_libs()
        started = time.monotonic()
        print(f"Kafka ready at {broker.start()} in {time.monotonic() - started:.1f}s")
    elif args.command == "restart":
        started = time.monotonic()
        print(f"Kafka restarted at {broker.restart()} in {time.monotonic() - started:.1f}s, data kept")
    elif args.command == "stop":
        broker.stop()
    else:
        pid = broker.running_pid()
        print(f"running, pid {pid}, 127.0.0.1:{args.port}" if pid else "not running")
        return 0 if pid else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
