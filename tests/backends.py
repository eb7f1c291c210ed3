"""Which servers the tests use, for Kafka and PostgreSQL each (design §10).

`TEST_BACKEND` chooses explicitly:
- `local`: the servers named by `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL`, else the ones this machine runs
  (a throw-away broker from Maven Central's jars, Debian's PostgreSQL cluster); `make test`.
- `containers`: containers started through a Docker-compatible API (Docker, or podman's socket, started by the
  harness when no engine answers): `make test-containers`. The two variables above are ignored then.
- unset (`auto`): the variables, else the local servers, else containers when an engine answers.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Source = Literal["env", "local", "containers"]
CHOICES = ("auto", "local", "containers")


class NoBackend(RuntimeError):
    """Nothing can provide a server the tests need; the message says what would."""


@dataclass(frozen=True)
class Backends:
    kafka: Source
    postgres: Source


@dataclass(frozen=True)
class Machine:
    """What this machine offers, asked only when the choice depends on it."""

    local_kafka: Callable[[], bool]
    local_postgres: Callable[[], bool]
    engine: Callable[[], bool]


def this_machine() -> Machine:
    return Machine(local_kafka=lambda: bool(shutil.which("java") and shutil.which("mvn")),
                   local_postgres=lambda: bool(shutil.which("apt-get") or shutil.which("pg_ctlcluster")),
                   engine=engine_available)


def engine_available() -> bool:
    """A container engine is there: Docker answers, or podman is installed (its API socket is ours to start)."""
    if shutil.which("podman"):
        return True
    try:
        import docker

        docker.from_env(timeout=10).ping()
        return True
    except Exception:  # no engine, no socket, no permission: all mean "not available"
        return False


def choose(env: Mapping[str, str], machine: Machine) -> Backends:
    choice = env.get("TEST_BACKEND", "auto") or "auto"
    if choice not in CHOICES:
        raise NoBackend(f"TEST_BACKEND={choice!r}: expected one of {', '.join(CHOICES)}")
    if choice == "containers":
        if not machine.engine():
            raise NoBackend("TEST_BACKEND=containers needs Docker or podman (deploy/containers/podman-setup.sh)")
        return Backends(kafka="containers", postgres="containers")
    return Backends(
        kafka=_one(env.get("KAFKA_BOOTSTRAP_SERVERS"), local=machine.local_kafka, engine=machine.engine,
                   allow_containers=choice == "auto", missing="Kafka: set KAFKA_BOOTSTRAP_SERVERS, install "
                   "java and maven"),
        postgres=_one(env.get("DATABASE_URL"), local=machine.local_postgres, engine=machine.engine,
                      allow_containers=choice == "auto", missing="PostgreSQL: set DATABASE_URL, run on Debian"),
    )


def _one(variable: str | None, *, local: Callable[[], bool], engine: Callable[[], bool], allow_containers: bool,
         missing: str) -> Source:
    if variable:
        return "env"
    if local():
        return "local"
    if allow_containers and engine():
        return "containers"
    raise NoBackend(f"no {missing}" + (", or provide Docker or podman" if allow_containers else
                                       " (TEST_BACKEND=local), or use TEST_BACKEND=containers"))
