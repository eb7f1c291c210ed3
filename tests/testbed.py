"""The containers backend (tests/backends.py): Kafka and PostgreSQL in containers, started with testcontainers
through a Docker-compatible API: Docker's, or podman's socket (`podman system service`), started here when no
engine answers and stopped with the session.

Images: deploy/containers/images.py (built here with podman and cached; `TEST_IMAGES=public` for apache/kafka and
postgres). Ports are published on 127.0.0.1 only, and Kafka advertises its published port, so processes the
tests start (the e2e stack) reach both servers like local ones.

Every container carries the label `io.payments.testbed` = `<host>:<pid>:<start time>` of the pytest process that
started it. It is removed when the session ends, also after failures, Ctrl-C or SIGTERM; a session's start
removes what a dead session left behind (SIGKILL, a crash). Ryuk (testcontainers' reaper) is off: it is pulled
from a registry, and the label does its job.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import asyncpg

from deploy.containers import images
from deploy.local.kafka import free_port, new_cluster_id, wait_for_kafka
from deploy.local.kafka_config import JVM_BROKER, SERVER_PROPERTIES

LABEL = "io.payments.testbed"
PG_USER = PG_PASSWORD = "payments"
KAFKA_READY_S = 180.0  # a JVM in a container on a loaded 2-core machine: ~35 s seen at load 17
POSTGRES_READY_S = 120.0


def owner(pid: int | None = None) -> str:
    """`<host>:<pid>:<start time>`: a pid alone may be reused by the time a later session looks."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "gone"


def owner_alive(label: str) -> bool:
    host, _, rest = label.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True  # another machine's session (a shared engine): not ours to judge
    return pid.isdigit() and _start_time(int(pid)) == started


class Engine:
    """A Docker-compatible API for testcontainers: `DOCKER_HOST` or Docker's socket if one answers, else podman's
    socket started here (it dies with this process: PR_SET_PDEATHSIG).

    Under load, podman's `/version` (which every docker client asks first) took 4-5 s here: clients get 30 s."""

    def __init__(self) -> None:
        self.service: subprocess.Popen | None = None
        self.socket_dir: str | None = None
        self.version: dict = {}

    def start(self, timeout: float = 120.0) -> None:
        from testcontainers.core.config import testcontainers_config

        testcontainers_config.ryuk_disabled = True
        found = _engine_version()
        if found is not None:
            self.version = found
            return
        images.configure_podman()
        self.socket_dir = tempfile.mkdtemp(prefix="podman-api-")
        path = f"{self.socket_dir}/podman.sock"
        self.service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{path}"],
                                        stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        os.environ["DOCKER_HOST"] = f"unix://{path}"
        deadline = time.monotonic() + timeout
        while (found := _engine_version()) is None:
            if self.service.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"podman's API socket did not answer at {path} within {timeout}s")
            time.sleep(0.2)
        self.version = found

    def is_podman(self) -> bool:
        return any("podman" in part.get("Name", "").lower() for part in self.version.get("Components", []))

    def stop(self) -> None:
        if self.service is not None:
            os.environ.pop("DOCKER_HOST", None)
            self.service.terminate()
            try:
                self.service.wait(20)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait(10)
            self.service = None
        if self.socket_dir:
            with contextlib.suppress(OSError):
                for leftover in Path(self.socket_dir).iterdir():
                    leftover.unlink()
                os.rmdir(self.socket_dir)


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _engine_version() -> dict | None:
    """The engine's `/version` answer, or None when none answers (no socket, no permission, not started yet)."""
    try:
        import docker

        client = docker.from_env(timeout=30)
        try:
            return dict(client.version())
        finally:
            client.close()
    except Exception:  # every failure here means "no engine (yet)"
        return None


def remove_labelled(*, mine: bool) -> list[str]:
    """Removes the containers this session started (`mine`), or those whose session is gone; returns their names."""
    import docker

    client = docker.from_env(timeout=30)
    removed = []
    try:
        for container in client.containers.list(all=True, filters={"label": LABEL}):
            label = container.labels.get(LABEL, "")
            if label == owner() if mine else not owner_alive(label):
                with contextlib.suppress(docker.errors.NotFound):  # already gone: fine
                    container.remove(force=True, v=True)
                removed.append(container.name)
    finally:
        client.close()
    return removed


def kafka_environment(host_port: int) -> dict[str, str]:
    """The local broker's own configuration (deploy/local/kafka_config.py) as KAFKA_* variables, listening on all
    the container's addresses and advertising the port published on the host."""
    rendered = SERVER_PROPERTIES.format(port=9092, cport=9093, data="/var/lib/kafka/data")
    props = dict(line.split("=", 1) for line in rendered.splitlines() if line and not line.startswith("#"))
    props.update({"listeners": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093",
                  "advertised.listeners": f"PLAINTEXT://127.0.0.1:{host_port}"})
    env = {"KAFKA_" + key.replace("_", "__").replace("-", "___").replace(".", "_").upper(): value
           for key, value in props.items()}
    heap = [flag for flag in JVM_BROKER if flag.startswith(("-Xms", "-Xmx"))]
    env.update(KAFKA_HEAP_OPTS=" ".join(heap),
               KAFKA_JVM_PERFORMANCE_OPTS=" ".join(flag for flag in JVM_BROKER if flag not in heap),
               CLUSTER_ID=new_cluster_id())
    return env


class Testbed:
    """The session's containers, started on first use: `kafka()` and `postgres()` return their addresses."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.containers: list = []
        self.images: dict[str, str] = {}
        self._previous_sigterm = None

    def start(self) -> None:
        self.engine.start()
        self.images = images.ensure(podman=self.engine.is_podman())
        left = remove_labelled(mine=False)
        if left:
            print(f"removed containers left by an ended test session: {', '.join(left)}")
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        # A second interrupt during teardown (a server under test re-raising the signal it caught) aborts pytest's
        # teardown before this fixture's: the interpreter's exit still closes the testbed.
        atexit.register(self.close)

    def close(self) -> None:
        if not self.containers and self.engine.service is None and self.engine.version == {}:
            return  # closed already (atexit after the fixture's teardown)
        try:
            for container in reversed(self.containers):
                with contextlib.suppress(Exception):  # remove_labelled below catches whatever this missed
                    container.stop()
            self.containers.clear()
            remove_labelled(mine=True)
        finally:
            self.engine.stop()
            self.engine.version = {}
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)

    def _run(self, image: str, *, ports: tuple[int, int], env: dict[str, str], command: list[str] | None = None):
        """Starts `image` with the container's port `ports[0]` published on 127.0.0.1:`ports[1]`."""
        from testcontainers.core.container import DockerContainer

        port, host_port = ports
        container = DockerContainer(image, command=command, env=env, name=f"testbed-{uuid.uuid4().hex[:8]}")
        container.with_kwargs(labels={LABEL: owner()})
        container.ports[f"{port}/tcp"] = ("127.0.0.1", host_port)  # type: ignore[assignment] # docker-py form
        self.containers.append(container)
        container.start()
        return container

    def kafka(self) -> str:
        host_port = free_port()
        container = self._run(self.images["kafka"], ports=(9092, host_port), env=kafka_environment(host_port))
        bootstrap = f"127.0.0.1:{host_port}"
        _ready(container, "Kafka", lambda: asyncio.run(wait_for_kafka(bootstrap, timeout=KAFKA_READY_S)))
        return bootstrap

    def postgres(self) -> str:
        # The e2e stack runs four services with pools beside the tests' own: 300 connections, as the local cluster.
        port = free_port()
        container = self._run(self.images["postgres"], ports=(5432, port),
                                    env={"POSTGRES_USER": PG_USER, "POSTGRES_PASSWORD": PG_PASSWORD},
                                    command=["postgres", "-c", "max_connections=300", "-c", "fsync=off"])
        url = f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}/postgres"
        _ready(container, "PostgreSQL", lambda: asyncio.run(_wait_for_postgres(url, timeout=POSTGRES_READY_S)))
        return url


def _interrupt(signum, frame) -> None:
    """SIGTERM as Ctrl-C: pytest then tears the session down, containers included. Once: later SIGTERMs during
    that teardown are ignored (SIGKILL remains, and the next session removes what it leaves)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def _ready(container, what: str, wait) -> None:
    try:
        wait()
    except Exception as exc:
        stdout, stderr = container.get_logs()
        raise RuntimeError(f"{what} container not ready: {exc}\n{(stdout + stderr).decode()[-3000:]}") from exc


async def _wait_for_postgres(url: str, timeout: float) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(url, timeout=5)
            try:
                await conn.fetchval("SELECT 1")
                return
            finally:
                await conn.close()
        except Exception as exc:  # refused, reset, "starting up": all mean "not yet"; the last one is reported
            last = exc
        await asyncio.sleep(0.3)
    raise TimeoutError(f"PostgreSQL at {url} not ready after {timeout}s: {last!r}")
